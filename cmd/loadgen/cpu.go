package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is CPU time (user + system) spent by the server subprocess and by
// loadgen itself.
type cpuUse struct {
	server time.Duration
	self   time.Duration
}

func (c cpuUse) since(before cpuUse) cpuUse {
	return cpuUse{server: c.server - before.server, self: c.self - before.self}
}

// cpuNow reads the CPU time of process pid (0: none) and of loadgen.
func cpuNow(pid int) cpuUse {
	var c cpuUse
	if pid > 0 {
		c.server = procCPU(pid)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c
}

// procCPU reads utime + stime of a process from /proc/PID/stat, fields 14
// and 15, in clock ticks (USER_HZ, 100 on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; count fields after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+sys) * (time.Second / 100)
}
