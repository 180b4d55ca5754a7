# joey: the two commands of the README, and the setup both stand on.
SHELL := /bin/bash
export npm_config_nodedir ?= /usr

.PHONY: setup deps build demo test test-unit test-integration test-containers typecheck clean

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

# The integration suites (root, real runc/conmon/overlayfs, registry, clients).
INTEGRATION := test/fixtures.test.ts test/images.test.ts test/containers.test.ts test/volumes.test.ts test/networks.test.ts test/ipv6.test.ts test/links.test.ts test/compose.test.ts test/rich.test.ts test/lxcfs.test.ts test/hooks.test.ts test/runtimes.test.ts test/system.test.ts test/upgrade.test.ts test/quota.test.ts test/project-quota.test.ts test/project-quota-engine.test.ts test/cgroup2.test.ts test/dockerode.test.ts test/build.test.ts test/cri.test.ts test/p2p.test.ts

test-integration:
	node --import tsx --test --test-concurrency=1 $(INTEGRATION)

test-containers: setup
	node --import tsx --test --test-concurrency=1 test/containers.test.ts

clean:
	rm -rf dist
