# porthole: one non-recursive Makefile. `make` builds; `make check` sets up,
# builds, makes the image and runs every test tier; `make run` boots the VM.

PREFIX ?= /usr/local
DESTDIR ?=
PROFILE ?= minimal
BUILD ?= build
CC ?= cc
CLANG ?= clang

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0)
# The newest commit's time: the agent refuses to set the clock before it.
BUILD_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wsign-compare -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE \
	-DPORTHOLE_VERSION='"$(VERSION)"' -DPORTHOLE_BUILD_EPOCH=$(BUILD_EPOCH)LL -MMD -MP
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all


INIT_PKGS := inih libmnl libkmod libcap jansson libseccomp
AGENT_PKGS := jansson libmnl inih libcap libseccomp
HOST_PKGS := jansson inih libseccomp
# porthole-vsockd's own (its tests and fuzzers link its modules too)
VSOCKD_PKGS := libseccomp
ALL_PKGS := inih libmnl libkmod jansson libcap

LIB_SRCS := $(wildcard lib/*.c)
# lib/rtnl.c links libmnl, which the host programs do not need
LIB_SRCS_HOST := $(filter-out lib/rtnl.c,$(LIB_SRCS))
INIT_SRCS := $(wildcard init/*.c)
INIT_LIB_SRCS := $(filter-out init/main.c,$(INIT_SRCS))
# agent/main.c is the daemon; the rest is what tests link.
AGENT_SRCS := $(wildcard agent/*.c)
AGENT_LIB_SRCS := $(filter-out agent/main.c,$(AGENT_SRCS))
# host/porthole.c is the CLI, host/loadgen.c the load generator; the rest is
# the client library both use.
HOST_MAINS := host/porthole.c host/loadgen.c host/vsockd.c
HOST_LIB_SRCS := $(filter-out $(HOST_MAINS),$(wildcard host/*.c))
# porthole-vsockd's modules: its tests and fuzzers link them, the CLI does not
VSOCKD_SRCS := $(wildcard host/vsock-*.c host/virtq.c host/vhost-user*.c)
CLIENT_SRCS := $(filter-out $(VSOCKD_SRCS),$(HOST_LIB_SRCS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# Each program sees its own folder and lib/, nothing else, so that the
# layering (lib knows no program; init, agent and host share only lib) is
# the compiler's to enforce. -iquote: only "x.h" looks there, so that a
# module's header (init/spawn.h) never stands for a system one (<spawn.h>).
# Tests and fuzzers see the program they test: test-agent-*, test-host-*,
# test-relay-*, fuzz-agent-*, fuzz-relay-* theirs, the rest init's (which lib's tests do not use).
prog_of = $(strip $(if $(filter init/% agent/% host/% relay/%,$(1)),$(firstword $(subst /, ,$(1))),\
	$(if $(filter tests/unit/test-agent-% tests/fuzz/fuzz-agent-%,$(1)),agent,\
	$(if $(filter tests/unit/test-host-% tests/fuzz/fuzz-host-%,$(1)),host,\
	$(if $(filter tests/unit/test-relay-% tests/fuzz/fuzz-relay-%,$(1)),relay,$(if $(filter tests/%,$(1)),init))))))
incs = -iquote lib $(addprefix -iquote ,$(call prog_of,$(1)))
sanobj = $(patsubst %.c,$(BUILD)/obj-san/%.o,$(1))

BINS := $(BUILD)/bin/porthole-init
ifneq ($(wildcard agent/main.c),)
BINS += $(BUILD)/bin/porthole-agent
endif
ifneq ($(wildcard host/porthole.c),)
BINS += $(BUILD)/bin/porthole
endif
ifneq ($(wildcard host/loadgen.c),)
BINS += $(BUILD)/bin/porthole-loadgen
endif
ifneq ($(wildcard host/vsockd.c),)
BINS += $(BUILD)/bin/porthole-vsockd
endif
ifneq ($(wildcard relay/main.c),)
BINS += $(BUILD)/bin/porthole-relay
endif
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))

# `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @echo
endif

# The objects that print the version or check the build time (tests that
# compare with them included) are rebuilt when either changes: the stamp is
# rewritten only when its text differs. Found by name, so none is forgotten.
VERSION_USERS := $(shell grep -l -e PORTHOLE_VERSION -e PORTHOLE_BUILD_EPOCH -e WALLTIME_BUILD_NS \
	init/*.c agent/*.c host/*.c lib/*.c tests/unit/*.c 2>/dev/null)
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD); [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = "$(VERSION) $(BUILD_EPOCH)" ] || \
	echo "$(VERSION) $(BUILD_EPOCH)" >$(VERSION_STAMP))
$(call obj,$(VERSION_USERS)) $(call sanobj,$(VERSION_USERS)): $(VERSION_STAMP)

.PHONY: all deps check test unit image run stop install clean distclean format bench fuzz \
	fresh-check san
.DEFAULT_GOAL := all

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(call incs,$<) $(shell pkg-config --cflags $(ALL_PKGS)) -c -o $@ $<

$(BUILD)/obj-san/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC/SAN  $<"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(call incs,$<) $(shell pkg-config --cflags $(ALL_PKGS) cmocka) -c -o $@ $<

$(BUILD)/bin/porthole-init: $(call obj,$(INIT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(INIT_PKGS))

$(BUILD)/bin/porthole-agent: $(call obj,$(AGENT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(AGENT_PKGS))

$(BUILD)/bin/porthole: $(call obj,host/porthole.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(HOST_PKGS))

$(BUILD)/bin/porthole-loadgen: $(call obj,host/loadgen.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(HOST_PKGS))

# porthole-relay (the guest's end of the forwarders) neither
$(BUILD)/bin/porthole-relay: $(call obj,$(wildcard relay/*.c) lib/log.c lib/util.c lib/buf.c lib/relay.c \
	lib/dgramstream.c)
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^

# porthole-vsockd needs only libseccomp beyond libc
$(BUILD)/bin/porthole-vsockd: $(call obj,host/vsockd.c $(VSOCKD_SRCS) lib/log.c lib/util.c lib/buf.c)
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(VSOCKD_PKGS))

# The programs the sandbox tests run, built with ASan and UBSan from the
# obj-san objects, for the sandbox-san tier (tests/run) and `make san`.
# libasan and libubsan are linked statically: init runs chrooted into the
# image's tree, which has neither.
SAN_BINS := $(patsubst $(BUILD)/bin/%,$(BUILD)/bin-san/%,$(filter %/porthole-init %/porthole-agent \
	%/porthole %/porthole-relay,$(BINS)))
SAN_LDFLAGS := $(SAN) -static-libasan -static-libubsan

$(BUILD)/bin-san/porthole-init: $(call sanobj,$(INIT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(INIT_PKGS))

$(BUILD)/bin-san/porthole-agent: $(call sanobj,$(AGENT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(AGENT_PKGS))

$(BUILD)/bin-san/porthole: $(call sanobj,host/porthole.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(HOST_PKGS))

$(BUILD)/bin-san/porthole-relay: $(call sanobj,$(wildcard relay/*.c) lib/log.c lib/util.c lib/buf.c \
	lib/relay.c lib/dgramstream.c)
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^

# Unit tests: cmocka, built with ASan and UBSan, one per module:
# test-MODULE.c links init/ and lib/, test-agent-*.c the agent's modules,
# test-relay-*.c porthole-relay's,
# test-host-*.c the host's library (the client's and porthole-vsockd's modules). Static pattern rules, so that make never
# picks the wrong group's rule for a test whose objects are not built yet.
ALL_UNIT := $(wildcard tests/unit/test-*.c)
AGENT_UNIT := $(filter tests/unit/test-agent-%,$(ALL_UNIT))
HOST_UNIT := $(filter tests/unit/test-host-%,$(ALL_UNIT))
RELAY_UNIT := $(filter tests/unit/test-relay-%,$(ALL_UNIT))
INIT_UNIT := $(filter-out $(AGENT_UNIT) $(HOST_UNIT) $(RELAY_UNIT),$(ALL_UNIT))
utest = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(1))

$(call utest,$(INIT_UNIT)): $(BUILD)/tests/%: $(BUILD)/obj-san/tests/unit/%.o $(call sanobj,$(INIT_LIB_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(shell pkg-config --libs $(INIT_PKGS) cmocka)

$(call utest,$(AGENT_UNIT)): $(BUILD)/tests/%: $(BUILD)/obj-san/tests/unit/%.o $(call sanobj,$(AGENT_LIB_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(shell pkg-config --libs $(AGENT_PKGS) cmocka)

$(call utest,$(HOST_UNIT)): $(BUILD)/tests/%: $(BUILD)/obj-san/tests/unit/%.o $(call sanobj,$(HOST_LIB_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(shell pkg-config --libs $(HOST_PKGS) $(VSOCKD_PKGS) cmocka)

$(call utest,$(RELAY_UNIT)): $(BUILD)/tests/%: $(BUILD)/obj-san/tests/unit/%.o $(call sanobj,$(filter-out relay/main.c,$(wildcard relay/*.c)) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(shell pkg-config --libs $(HOST_PKGS) cmocka)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(HELPER_LDFLAGS) -o $@ $<
# runs in the guest: static, whatever the image's libc
$(BUILD)/tests/helpers/vsock-peer: HELPER_LDFLAGS := -static
$(BUILD)/tests/helpers/udp-echo: HELPER_LDFLAGS := -static
$(BUILD)/tests/helpers/fsync-log: HELPER_LDFLAGS := -static
$(BUILD)/tests/helpers/memtouch: HELPER_LDFLAGS := -static

# libFuzzer targets: clang only. fuzz-agent-*.c link the agent's modules,
# fuzz-host-*.c the host's library.
# -fno-sanitize-recover: undefined behaviour stops the run and keeps the
# input, as a crash does (UBSan only prints, and goes on, without it)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
$(BUILD)/fuzz/fuzz-agent-%: tests/fuzz/fuzz-agent-%.c $(AGENT_LIB_SRCS) $(LIB_SRCS)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell pkg-config --cflags --libs $(AGENT_PKGS) $(FUZZ_PKGS))
# it fences the handlers it runs with a seccomp filter
$(BUILD)/fuzz/fuzz-agent-commands: FUZZ_PKGS := libseccomp

$(BUILD)/fuzz/fuzz-host-%: tests/fuzz/fuzz-host-%.c $(HOST_LIB_SRCS) $(LIB_SRCS_HOST)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell pkg-config --cflags --libs $(HOST_PKGS) $(VSOCKD_PKGS))

# fuzz-relay-*.c porthole-relay's modules
$(BUILD)/fuzz/fuzz-relay-%: tests/fuzz/fuzz-relay-%.c $(filter-out relay/main.c,$(wildcard relay/*.c)) \
		$(LIB_SRCS_HOST)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell pkg-config --cflags --libs $(HOST_PKGS))

$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(INIT_LIB_SRCS) $(LIB_SRCS)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell pkg-config --cflags --libs $(INIT_PKGS))

deps:
	@scripts/deps

unit: $(UNIT_TESTS)
# `make fuzz` builds every libFuzzer target and runs each for FUZZ_SECONDS
# (tests/run's fuzz tier). Named beside other goals (`make all unit fuzz`,
# the build that every change is checked with) it only builds them: an hour
# of fuzzing is not part of a build.
FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
ifeq ($(MAKECMDGOALS),fuzz)
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run fuzz
endif
san: $(SAN_BINS)

image: all
	scripts/image $(PROFILE)

# The README's test command. Every tier; ends with "check: N passed, N failed, N skipped".
check: deps
	$(MAKE) --no-print-directory all $(UNIT_TESTS) $(FUZZERS) $(HELPERS) $(SAN_BINS)
	scripts/image minimal
	scripts/image engine
	tests/run

# The README's commands, as written, in a clean Debian 12 tree (mmdebstrap
# minbase, git, make) on a clone of HEAD: logs in build/fresh-check/.
fresh-check:
	scripts/fresh-check

# make run's VM: its state directory, and its data disk (/var/lib in the
# guest: the engine's images and containers), a sparse raw file made on the
# first run (a .qcow2 one must exist), formatted by init at the first boot,
# kept by make clean; DISK=none runs without one (data on the guest's tmpfs,
# gone at power-off).
VM_DIR ?= $(BUILD)/vm
DISK ?= $(BUILD)/state/data.img
DISK_SIZE ?= 64G

run: deps
	$(MAKE) --no-print-directory all
	scripts/image $(PROFILE)
	@if [ "$(DISK)" != none ] && [ ! -e "$(DISK)" ] && [ "$(suffix $(DISK))" != .qcow2 ]; then \
		mkdir -p "$(dir $(DISK))" && truncate -s $(DISK_SIZE) "$(DISK)" && \
		echo "run: a new data disk, $(DISK): $(DISK_SIZE), sparse (formatted at the first boot)"; fi
	scripts/run-vm --profile $(PROFILE) --dir $(VM_DIR) --background $(if $(filter none,$(DISK)),,--disk $(DISK))
	@i=0; until $(BUILD)/bin/porthole --connect unix:$(VM_DIR)/agent.sock --timeout 5 ping >/dev/null 2>&1; do \
		i=$$((i + 1)); [ $$i -lt 60 ] || { echo "run: the agent did not answer within 60 s"; exit 1; }; sleep 1; done
	@# the clock keeper and, for the engine, the docker socket's and the published ports' forwards
	scripts/host-side start --dir $(VM_DIR) --profile $(PROFILE)
	@# health says "starting" while the container engine (dockerd) is not ready yet
	@i=0; while $(BUILD)/bin/porthole --connect unix:$(VM_DIR)/agent.sock --timeout 5 --json health 2>/dev/null | \
		grep -q '"status":"starting"'; do \
		[ $$i -gt 0 ] || echo "run: waiting for the container engine"; \
		i=$$((i + 1)); [ $$i -lt 180 ] || { echo "run: the engine was not ready within 180 s"; break; }; sleep 1; done
	@echo
	@$(BUILD)/bin/porthole --connect unix:$(VM_DIR)/agent.sock health
	@echo
	@echo "The VM runs in the background ($(PROFILE) profile). To reach it:"
	@[ ! -S $(VM_DIR)/docker.sock ] || { \
		echo "  the engine:         export DOCKER_HOST=unix://$(abspath $(VM_DIR))/docker.sock"; \
		echo "                      then docker version, docker build -t NAME ., docker run -it ..."; \
		echo "                      (no docker CLI? Debian's: export PATH=$(abspath $(BUILD))/docker-cli:\$$PATH)"; }
	@[ ! -f $(VM_DIR)/forward-ports.pid ] || \
		echo "  published ports:    docker run -p 8080:80 ... answers on the host's 127.0.0.1:8080 and [::1]:8080"
	@echo "  the agent:          $(BUILD)/bin/porthole --connect unix:$(VM_DIR)/agent.sock health"
	@echo "                      (org.porthole.agent.0; $(VM_DIR)/qga.sock is org.qemu.guest_agent.0)"
	@[ ! -f $(VM_DIR)/vsock.address ] || \
		echo "  over vsock:         $(BUILD)/bin/porthole --connect $$(cat $(VM_DIR)/vsock.address):1024 health"
	@[ ! -f $(VM_DIR)/vsockd.pid ] || \
		echo "                      (porthole-vsockd: guest port P is 'CONNECT P' on $(VM_DIR)/vsock.sock)"
	@echo "  console (a shell):  python3 scripts/console $(VM_DIR)/console.sock"
	@[ ! -f $(BUILD)/image/$(PROFILE)/root/usr/bin/docker ] || \
		echo "  docker in the VM:   python3 scripts/console $(VM_DIR)/console.sock --run 'docker info'"
	@echo "  console log:        $(VM_DIR)/console.log"
	@echo "  the host side:      scripts/host-side status --dir $(VM_DIR) (logs: $(VM_DIR)/*.log)"
	@[ "$(DISK)" = none ] || \
		echo "  the data disk:      $(DISK) (kept by make stop and make clean; make distclean removes it)"
	@echo "  stop it:            make stop"

stop:
	scripts/stop-vm --dir $(VM_DIR)

# Figures, side by side with Debian's qemu-ga in the same run; never a pass/fail.
bench: deps
	$(MAKE) --no-print-directory all $(BUILD)/tests/helpers/floor-server
	scripts/image engine
	scripts/bench

install: all
	install -D -m 0755 $(BUILD)/bin/porthole-init $(DESTDIR)$(PREFIX)/sbin/porthole-init
	for b in porthole-agent porthole porthole-loadgen; do \
		[ ! -x $(BUILD)/bin/$$b ] || install -D -m 0755 $(BUILD)/bin/$$b $(DESTDIR)$(PREFIX)/bin/$$b; \
	done
	install -D -m 0644 rootfs/etc/porthole/init.conf $(DESTDIR)/etc/porthole/init.conf

format:
	clang-format -i $(wildcard init/*.[ch] lib/*.[ch] agent/*.[ch] host/*.[ch] tests/unit/*.c tests/fuzz/*.c tests/helpers/*.c)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-san $(BUILD)/bin $(BUILD)/bin-san $(BUILD)/tests $(BUILD)/fuzz

# also the kernel, package and image caches, the docker CLI and make run's
# data disk (and never through a mount, such as fresh-check's tree would have
# if it had been killed); make run's VM is stopped first, not left running
# on a deleted disk
distclean:
	@scripts/stop-vm --dir $(VM_DIR) | grep -v '^stop-vm: no VM running' || true
	rm -rf --one-file-system $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san -name '*.d' 2>/dev/null)
