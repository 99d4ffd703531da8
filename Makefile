# Plotline. `make run` sets up and starts Plotline; `make test` sets up and
# runs every test; `make bench` measures the interpreter.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go

.PHONY: run test bench deps build vet

deps:
	@scripts/install-deps.sh

build: deps
	$(GO) build -o plotline .

run: build
	./plotline
	./plotline doctor

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./interpreter/...
	GOOS=windows $(GO) vet ./interpreter/...

test: deps vet
	@cd conformance/node && if ! command -v npm >/dev/null; then echo "npm not found: the Node SDK conformance test will be skipped"; elif [ ! package-lock.json -ot node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
	$(GO) test -count=1 ./...

bench: deps
	@scripts/bench.sh
