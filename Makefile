# joey: the two commands of the README, and the setup both stand on.
SHELL := /bin/bash
export npm_config_nodedir ?= /usr

.PHONY: setup deps build demo test test-unit test-integration typecheck clean

setup: deps build

deps:
	scripts/install-deps.sh

build:
	node scripts/build.mjs

typecheck:
	npx tsc --noEmit -p .

demo: setup
	scripts/demo.sh

test: setup typecheck test-unit test-integration

test-unit:
	node --import tsx --test --test-concurrency=2 $$(find src -name '*.test.ts' | sort)

test-integration:
	node --import tsx --test --test-concurrency=1 $$(find test -name '*.test.ts' | sort)

clean:
	rm -rf dist
