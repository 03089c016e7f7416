# The district voucher system. `make run` starts it with demo data;
# `make test` runs every test (CI runs .ci/run, which calls it).

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
DATA    ?= ./data
ADDR    ?= :8080
# mattn/go-sqlite3 is C: cgo must stay on.
export CGO_ENABLED = 1

.PHONY: all build run test lint vet fmt migrate seed backup clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/voucherd ./cmd/voucherd

# Serves on $(ADDR) with the SQLite database and signing keys in $(DATA),
# loading the demo accounts and campaign once.
run: build
	./bin/voucherd serve -demo -data $(DATA) -addr $(ADDR)

test: lint
	$(GO) test -race -count=1 ./...

lint: vet fmt

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

migrate: build
	./bin/voucherd migrate -data $(DATA)

seed: build
	./bin/voucherd seed -demo -data $(DATA)

backup: build
	./bin/voucherd backup -data $(DATA) $(DATA)/backup-$$(date +%Y%m%d-%H%M%S).db

clean:
	rm -rf bin
