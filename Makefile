# Plotline. `make run` sets up and starts Plotline; `make test` sets up and
# runs every test; `make bench` measures it; `make screenshot` takes the
# README's screenshot of the real window.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
# Fyne: this app hands every widget update to the UI goroutine (fyne.Do),
# which FyneApp.toml's [Migrations] fyneDo declares for the fyne tool; a
# plain go build says it with the tag migrated_fynedo. no_emoji leaves out
# Fyne's 4 MB colour emoji font, which Fyne parses again for each text
# style (regular, bold, monospace…): about 8 MB of the window's memory.
# Emoji then come from the system's fonts, as the rest of the desktop's do.
export GOFLAGS := -tags=migrated_fynedo,no_emoji
# scripts/install-deps.sh installs the pinned staticcheck here.
STATICCHECK ?= $(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)/staticcheck

# The packages that build without cgo (all but the window's, which Fyne's
# OpenGL driver ties to a C toolchain for the target): vetted for macOS
# and Windows too.
PORTABLE = $(shell $(GO) list -f '{{.ImportPath}}{{range .Deps}} {{.}}{{end}}' ./... | grep -v ' fyne.io/fyne/v2' | cut -d' ' -f1)

.PHONY: run test bench deps build vet cross runtime package package-test screenshot

deps:
	@scripts/install-deps.sh

build: deps
	$(GO) build -o plotline .
	@scripts/runtime.sh --exec-stage

run: build
	./plotline doctor
	./plotline

vet: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...
	GOOS=darwin $(GO) vet $(PORTABLE)
	GOOS=windows $(GO) vet $(PORTABLE)

# The whole program, window included, built for Windows with Debian's
# mingw-w64 cross compiler (Fyne needs cgo); macOS has no cross compiler
# here, so vet checks what builds without cgo for it.
cross: deps
	@scripts/install-deps.sh --cross
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -o /dev/null .

# The bundled runtime, runtime/: Python and the analyst's packages from
# Debian, at the versions packaging/runtime.lock pins, as a userland the
# sandbox mounts as its root's /usr. plotline prefers it when it is beside
# the binary (after PLOTLINE_PYTHON); see scripts/runtime.sh.
runtime: deps
	@scripts/install-deps.sh --package
	@scripts/runtime.sh

# The installers, into dist/: the .deb, the tarball and the Windows zip
# (packaging/). The binaries are built without debug symbols, and
# otherwise as the tests' builds are, so that they share the build cache;
# the Windows one links the icon, version and manifest resources that
# packaging writes beside main.go for the build.
package: deps runtime
	@scripts/install-deps.sh --cross
	rm -rf dist/.build dist/plotline_* dist/plotline-* && mkdir -p dist/.build
	$(GO) build -ldflags "-s -w" -o dist/.build/plotline .
	$(GO) run ./packaging syso rsrc_windows_amd64.syso
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -ldflags "-s -w" -o dist/.build/plotline.exe . ; status=$$?; rm -f rsrc_windows_amd64.syso; exit $$status
	$(GO) run ./packaging build -dist dist -linux dist/.build/plotline -runtime runtime -windows dist/.build/plotline.exe
	rm -rf dist/.build

# The .deb installed into a clean Debian root (debootstrap, cached), where
# plotline doctor and a cell that draws a chart run; see the script.
package-test: package
	@scripts/install-deps.sh --package
	@scripts/package-test.sh

# The engine, the API, the store and the domain share goroutines, so their
# tests run a second time under the race detector.
test: vet cross runtime
	@scripts/install-deps.sh --xvfb --package
	@cd conformance/node && if ! command -v npm >/dev/null; then echo "npm not found: the Node SDK conformance test will be skipped"; elif [ ! package-lock.json -ot node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 ./app/engine/ ./app/api/ ./app/sqlite/ ./app/
	$(MAKE) package-test

bench: deps
	@scripts/bench.sh

screenshot: deps
	@scripts/install-deps.sh --xvfb
	rm -rf .screenshots && mkdir -p .screenshots docs
	PLOTLINE_SCREENSHOTS=$(CURDIR)/.screenshots $(GO) test -count=1 -run TestWindowScreenshots -v .
	PLOTLINE_SCREENSHOTS=$(CURDIR)/.screenshots $(GO) test -count=1 -run 'TestQuickLookScreenshots|TestChartScreenshots' ./app/ui/ ./app/cli/
	cp .screenshots/light-1440x900.png docs/screenshot.png
	cp .screenshots/light-quicklook-monthly.png docs/quicklook.png
	cp .screenshots/chart-bar-light.png .screenshots/chart-line-dark.png docs/
	@echo "docs/ updated; every size and theme is in .screenshots/"
