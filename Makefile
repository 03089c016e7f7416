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

# Browser libraries pinned in package-lock.json (jsQR decodes QR codes on
# the cashier page; ECharts draws the officers' charts) are installed with
# npm ci and copied next to the other static files, which the binary
# embeds. Without npm the build still succeeds: the cashier page hides its
# camera button and the dashboards show their tables without charts.
VENDOR := templates/static/vendor
VENDORED := jsqr/dist/jsQR.js:jsQR.js echarts/dist/echarts.min.js:echarts.min.js

assets:
	@mkdir -p $(VENDOR)
	@if command -v npm >/dev/null 2>&1; then \
		if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f node_modules/echarts/dist/echarts.min.js ] || [ ! -f node_modules/jsqr/dist/jsQR.js ] || [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/jose/package.json ]; then \
			echo "npm ci (browser libraries pinned in package-lock.json)"; \
			npm ci --ignore-scripts --no-audit --no-fund || exit 1; \
		fi; \
		for pair in $(VENDORED); do src=node_modules/$${pair%%:*}; dst=$(VENDOR)/$${pair##*:}; \
			cmp -s $$src $$dst || cp $$src $$dst || exit 1; done; \
	else \
		echo "npm not found: camera scanning and dashboard charts are unavailable until Node.js/npm is installed"; \
		for pair in $(VENDORED); do dst=$(VENDOR)/$${pair##*:}; \
			[ -f $$dst ] && ! grep -q 'is not installed' $$dst || echo "/* $${pair##*:} is not installed (no npm at build time). */" > $$dst; done; \
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
	rm -rf bin $(VENDOR)/jsQR.js $(VENDOR)/echarts.min.js
