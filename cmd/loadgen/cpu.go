package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is CPU time (user + system) spent by each server subprocess and
// by loadgen itself.
type cpuUse struct {
	servers []time.Duration // one per voucherd, in the order of their pids
	self    time.Duration
}

// server is the CPU time of all the servers together.
func (c cpuUse) server() time.Duration {
	var sum time.Duration
	for _, d := range c.servers {
		sum += d
	}
	return sum
}

func (c cpuUse) since(before cpuUse) cpuUse {
	d := cpuUse{servers: make([]time.Duration, len(c.servers)), self: c.self - before.self}
	for i := range c.servers {
		d.servers[i] = c.servers[i] - before.servers[i]
	}
	return d
}

// cpuNow reads the CPU time of the processes pids (none: no server) and
// of loadgen.
func cpuNow(pids ...int) cpuUse {
	c := cpuUse{servers: make([]time.Duration, len(pids))}
	for i, pid := range pids {
		c.servers[i] = procCPU(pid)
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
