# The district voucher system. `make run` starts it with demo data;
# `make test` runs every test (CI runs .ci/run, which calls it).

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
DATA    ?= ./data
ADDR    ?= :8080
# mattn/go-sqlite3 is C: cgo must stay on.
export CGO_ENABLED = 1

.PHONY: all assets build run test lint vet fmt migrate seed backup clean

all: build

# The cashier page's camera decoder (jsQR, pinned in package-lock.json) is
# installed with npm ci and copied next to the other static files, which
# the binary embeds. Without npm the build still succeeds: the page then
# hides its camera button and works with a scanner gun and typing.
JSQR_SRC := node_modules/jsqr/dist/jsQR.js
JSQR     := templates/static/vendor/jsQR.js

assets:
	@mkdir -p $(dir $(JSQR))
	@if command -v npm >/dev/null 2>&1; then \
		if [ ! -f $(JSQR_SRC) ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
			echo "npm ci (camera decoder jsQR, pinned in package-lock.json)"; \
			npm ci --ignore-scripts --no-audit --no-fund || exit 1; \
		fi; \
		cmp -s $(JSQR_SRC) $(JSQR) || cp $(JSQR_SRC) $(JSQR) || exit 1; \
	elif [ ! -f $(JSQR) ] || grep -q 'jsQR is not installed' $(JSQR); then \
		echo "npm not found: camera scanning on the cashier page is unavailable until Node.js/npm is installed (scanner gun and typing still work)"; \
		echo "/* jsQR is not installed (no npm at build time): the cashier page hides its camera button. */" > $(JSQR); \
	fi

build: assets
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/voucherd ./cmd/voucherd

# Serves on $(ADDR) with the SQLite database and signing keys in $(DATA),
# loading the demo accounts and campaign once.
run: build
	./bin/voucherd serve -demo -data $(DATA) -addr $(ADDR)

test: assets lint
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
	rm -rf bin $(JSQR)
