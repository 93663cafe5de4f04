# porthole: one non-recursive Makefile. `make` builds; `make check` sets up,
# builds, makes the image and runs every test tier; `make run` boots the VM.

PREFIX ?= /usr/local
DESTDIR ?=
PROFILE ?= minimal
BUILD ?= build
CC ?= cc
CLANG ?= clang

# ARCH: the guest's architecture, x86_64 or arm64 (Debian's name; uname's
# aarch64 means arm64), by default the host's. For the host's own ARCH
# nothing moves: programs in $(BUILD)/bin, objects in $(BUILD)/obj, images in
# $(BUILD)/image. A foreign ARCH is cross-built with Debian's cross compiler
# and its multiarch libraries (scripts/deps --arch arm64 installs both), and
# all that is arch-specific goes below $(BUILD)/$(ARCH)/ (bin, obj, tests,
# image/PROFILE), so that the two never mix; the host tools that drive a
# foreign VM stay the native ones in $(BUILD)/bin.
HOST_ARCH := $(patsubst aarch64,arm64,$(shell uname -m))
ARCH ?= $(HOST_ARCH)
ifeq ($(filter x86_64 arm64,$(ARCH)),)
$(error ARCH=$(ARCH) is not known: x86_64 or arm64)
endif
# the scripts (image, run-vm, tests/run) read it from their environment
export ARCH
# the GNU triplet, which names the cross compiler and the multiarch library directory
triplet = $(if $(filter arm64,$(1)),aarch64-linux-gnu,x86_64-linux-gnu)
PKG_CONFIG ?= pkg-config
ifeq ($(ARCH),$(HOST_ARCH))
OUT := $(BUILD)
else
OUT := $(BUILD)/$(ARCH)
# The cross compiler, unless one is named on the command line (CC= in the
# environment is most likely the host's, and would build the wrong thing).
ifneq ($(origin CC),command line)
CC := $(call triplet,$(ARCH))-gcc
endif
# pkg-config reads the foreign architecture's .pc files only (Debian's
# multiarch directory and the arch-independent one), never the host's
PKG_CONFIG := PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=/usr/lib/$(call triplet,$(ARCH))/pkgconfig:/usr/share/pkgconfig \
	pkg-config
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0)
# The newest commit's time: the agent refuses to set the clock before it.
BUILD_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wsign-compare -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE \
	-DPORTHOLE_VERSION='"$(VERSION)"' -DPORTHOLE_BUILD_EPOCH=$(BUILD_EPOCH)LL -MMD -MP
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# A foreign ARCH's unit tests run under qemu-user (tests/run's unit-arm64),
# whose -L / finds the multiarch libraries but not the cross compiler's
# libasan and libubsan (/usr/aarch64-linux-gnu/lib): they are linked in.
UNIT_LDFLAGS := $(if $(filter $(HOST_ARCH),$(ARCH)),,-static-libasan -static-libubsan)


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

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

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
sanobj = $(patsubst %.c,$(OUT)/obj-san/%.o,$(1))

BINS := $(OUT)/bin/porthole-init
ifneq ($(wildcard agent/main.c),)
BINS += $(OUT)/bin/porthole-agent
endif
ifneq ($(wildcard host/porthole.c),)
BINS += $(OUT)/bin/porthole
endif
ifneq ($(wildcard host/loadgen.c),)
BINS += $(OUT)/bin/porthole-loadgen
endif
ifneq ($(wildcard host/vsockd.c),)
BINS += $(OUT)/bin/porthole-vsockd
endif
ifneq ($(wildcard relay/main.c),)
BINS += $(OUT)/bin/porthole-relay
endif
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test-*.c))
# libFuzzer targets run on the host only: Debian has no cross libFuzzer
# runtime, and the arm64 unit tier runs the same parsers on arm64.
FUZZERS := $(if $(filter $(HOST_ARCH),$(ARCH)),$(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c)))
HELPERS := $(patsubst tests/helpers/%.c,$(OUT)/tests/helpers/%,$(wildcard tests/helpers/*.c))
# the helpers that the VM tests run in the guest (static, below)
GUEST_HELPERS := $(addprefix $(OUT)/tests/helpers/,vsock-peer udp-echo fsync-log memtouch)

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
	fresh-check san check-arm64-engine
.DEFAULT_GOAL := all

# A foreign ARCH's build is for its image, which also holds the guest's
# test helpers; the host's build leaves them to make check.
all: $(BINS) $(if $(filter $(HOST_ARCH),$(ARCH)),,$(GUEST_HELPERS))

$(OUT)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(call incs,$<) $(shell $(PKG_CONFIG) --cflags $(ALL_PKGS)) -c -o $@ $<

$(OUT)/obj-san/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC/SAN  $<"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(call incs,$<) $(shell $(PKG_CONFIG) --cflags $(ALL_PKGS) cmocka) -c -o $@ $<

$(OUT)/bin/porthole-init: $(call obj,$(INIT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(INIT_PKGS))

$(OUT)/bin/porthole-agent: $(call obj,$(AGENT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(AGENT_PKGS))

$(OUT)/bin/porthole: $(call obj,host/porthole.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(HOST_PKGS))

$(OUT)/bin/porthole-loadgen: $(call obj,host/loadgen.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(HOST_PKGS))

# porthole-relay (the guest's end of the forwarders) neither
$(OUT)/bin/porthole-relay: $(call obj,$(wildcard relay/*.c) lib/log.c lib/util.c lib/buf.c lib/relay.c \
	lib/dgramstream.c)
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^

# porthole-vsockd needs only libseccomp beyond libc
$(OUT)/bin/porthole-vsockd: $(call obj,host/vsockd.c $(VSOCKD_SRCS) lib/log.c lib/util.c lib/buf.c)
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(VSOCKD_PKGS))

# The programs the sandbox tests run, built with ASan and UBSan from the
# obj-san objects, for the sandbox-san tier (tests/run) and `make san`.
# libasan and libubsan are linked statically: init runs chrooted into the
# image's tree, which has neither.
SAN_BINS := $(patsubst $(OUT)/bin/%,$(OUT)/bin-san/%,$(filter %/porthole-init %/porthole-agent \
	%/porthole %/porthole-relay,$(BINS)))
SAN_LDFLAGS := $(SAN) -static-libasan -static-libubsan

$(OUT)/bin-san/porthole-init: $(call sanobj,$(INIT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(INIT_PKGS))

$(OUT)/bin-san/porthole-agent: $(call sanobj,$(AGENT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(AGENT_PKGS))

$(OUT)/bin-san/porthole: $(call sanobj,host/porthole.c $(CLIENT_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(HOST_PKGS))

$(OUT)/bin-san/porthole-relay: $(call sanobj,$(wildcard relay/*.c) lib/log.c lib/util.c lib/buf.c \
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
utest = $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(1))

$(call utest,$(INIT_UNIT)): $(OUT)/tests/%: $(OUT)/obj-san/tests/unit/%.o $(call sanobj,$(INIT_LIB_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(UNIT_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(INIT_PKGS) cmocka)

$(call utest,$(AGENT_UNIT)): $(OUT)/tests/%: $(OUT)/obj-san/tests/unit/%.o $(call sanobj,$(AGENT_LIB_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(UNIT_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(AGENT_PKGS) cmocka)

$(call utest,$(HOST_UNIT)): $(OUT)/tests/%: $(OUT)/obj-san/tests/unit/%.o $(call sanobj,$(HOST_LIB_SRCS) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(UNIT_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(HOST_PKGS) $(VSOCKD_PKGS) cmocka)

$(call utest,$(RELAY_UNIT)): $(OUT)/tests/%: $(OUT)/obj-san/tests/unit/%.o $(call sanobj,$(filter-out relay/main.c,$(wildcard relay/*.c)) $(LIB_SRCS_HOST))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(UNIT_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(HOST_PKGS) cmocka)

$(OUT)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(HELPER_LDFLAGS) -o $@ $<
# runs in the guest: static, whatever the image's libc
$(GUEST_HELPERS): HELPER_LDFLAGS := -static

# libFuzzer targets: clang only. fuzz-agent-*.c link the agent's modules,
# fuzz-host-*.c the host's library.
# -fno-sanitize-recover: undefined behaviour stops the run and keeps the
# input, as a crash does (UBSan only prints, and goes on, without it)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
$(OUT)/fuzz/fuzz-agent-%: tests/fuzz/fuzz-agent-%.c $(AGENT_LIB_SRCS) $(LIB_SRCS)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell $(PKG_CONFIG) --cflags --libs $(AGENT_PKGS) $(FUZZ_PKGS))
# it fences the handlers it runs with a seccomp filter
$(OUT)/fuzz/fuzz-agent-commands: FUZZ_PKGS := libseccomp

$(OUT)/fuzz/fuzz-host-%: tests/fuzz/fuzz-host-%.c $(HOST_LIB_SRCS) $(LIB_SRCS_HOST)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell $(PKG_CONFIG) --cflags --libs $(HOST_PKGS) $(VSOCKD_PKGS))

# fuzz-relay-*.c porthole-relay's modules
$(OUT)/fuzz/fuzz-relay-%: tests/fuzz/fuzz-relay-%.c $(filter-out relay/main.c,$(wildcard relay/*.c)) \
		$(LIB_SRCS_HOST)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell $(PKG_CONFIG) --cflags --libs $(HOST_PKGS))

$(OUT)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(INIT_LIB_SRCS) $(LIB_SRCS)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(call incs,$<) -o $@ $^ $(shell $(PKG_CONFIG) --cflags --libs $(INIT_PKGS))

# A foreign ARCH's cross compiler, libraries and emulators only when asked
# for (scripts/deps --arch arm64).
deps:
	@scripts/deps $(if $(filter $(HOST_ARCH),$(ARCH)),,--arch $(ARCH))

unit: $(UNIT_TESTS)
# `make fuzz` builds every libFuzzer target and runs each for FUZZ_SECONDS
# (tests/run's fuzz tier). Named beside other goals (`make all unit fuzz`,
# the build that every change is checked with) it only builds them: an hour
# of fuzzing is not part of a build.
FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
ifeq ($(MAKECMDGOALS),fuzz)
	$(if $(FUZZERS),BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run fuzz,\
		@echo "fuzz: the libFuzzer targets run on the host only: make fuzz without ARCH=$(ARCH)")
endif
san: $(SAN_BINS)

# a foreign ARCH's image needs its packages first (make deps), then its build
image: $(if $(filter $(HOST_ARCH),$(ARCH)),all,deps)
	$(if $(filter $(HOST_ARCH),$(ARCH)),,$(MAKE) --no-print-directory all)
	scripts/image $(PROFILE)

# The README's test command. Every tier; ends with "check: N passed, N failed, N skipped".
# It tests the arm64 guest too: scripts/deps --arch all installs what that
# needs, and the cross-built unit tests run under qemu-aarch64 (tests/run's
# unit-arm64 tier), and the arm64 images boot under qemu-system-aarch64 for
# the vm tests that matter for portability and the engine's (vm-arm64).
# Its builds run one job per CPU (CHECK_BUILD_JOBS): the README's command
# has no -j, and built one file at a time they took 5 of make check's 25
# minutes on a 2-core machine.
CHECK_BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check:
	@scripts/deps --arch all
	$(MAKE) --no-print-directory -j$(CHECK_BUILD_JOBS) all $(UNIT_TESTS) $(FUZZERS) $(HELPERS) $(SAN_BINS)
	$(if $(filter arm64,$(HOST_ARCH)),,$(MAKE) --no-print-directory -j$(CHECK_BUILD_JOBS) ARCH=arm64 all unit)
	scripts/image minimal
	scripts/image engine
	$(if $(filter arm64,$(HOST_ARCH)),,ARCH=arm64 scripts/image minimal)
	$(if $(filter arm64,$(HOST_ARCH)),,ARCH=arm64 scripts/image engine)
	tests/run

# The arm64 engine's own test (tests/vm-arm64/engine.sh, the vm-arm64-engine
# tier): the arm64 engine image with a data disk, dockerd ready, a container
# run from the host's docker CLI through the socket's forward; make check
# runs it too, in its vm-arm64 tier (docs/testing.md).
check-arm64-engine:
	@scripts/deps --arch all
	$(MAKE) --no-print-directory all
	$(if $(filter arm64,$(HOST_ARCH)),,$(MAKE) --no-print-directory ARCH=arm64 all)
	$(if $(filter arm64,$(HOST_ARCH)),,ARCH=arm64 scripts/image engine)
	tests/run vm-arm64-engine

# The README's commands, as written, in a clean Debian 12 tree (mmdebstrap
# minbase, git, make) on a clone of HEAD: logs in build/fresh-check/.
fresh-check:
	scripts/fresh-check

# make run's VM: its state directory, and its data disk (/var/lib in the
# guest: the engine's images and containers), a sparse raw file made on the
# first run (a .qcow2 one must exist), formatted by init at the first boot,
# kept by make clean; DISK=none runs without one (data on the guest's tmpfs,
# gone at power-off).
# A foreign ARCH's VM has its own of both, below $(BUILD)/$(ARCH)/.
VM_DIR ?= $(OUT)/vm
DISK ?= $(OUT)/state/data.img
DISK_SIZE ?= 64G

run: deps
	$(MAKE) --no-print-directory all
	@# the host's tools drive the VM whatever its ARCH
	$(if $(filter $(HOST_ARCH),$(ARCH)),,$(MAKE) --no-print-directory ARCH=$(HOST_ARCH) all)
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
	@[ ! -f $(OUT)/image/$(PROFILE)/root/usr/bin/docker ] || \
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
	$(MAKE) --no-print-directory all $(OUT)/tests/helpers/floor-server
	scripts/image engine
	@# the minimal boot on both architectures (scripts/bench-arch)
	scripts/image minimal
	$(if $(filter arm64,$(HOST_ARCH)),,$(MAKE) --no-print-directory ARCH=arm64 PROFILE=minimal image)
	scripts/bench

# Where `make install` puts things (docs/install.md): Debian's policy and the
# FHS. The agent and the relay are services init starts, not user commands:
# PKGLIBEXECDIR, whose path the installed service files are made to name.
# PID 1 is in SBINDIR, and /sbin/porthole-init (the path init's re-exec, a
# disk root's check and kernel command lines name) is made a link to it
# unless it is that file already (a merged /usr) or INIT_LINK=0.
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
PKGLIBEXECDIR ?= $(LIBEXECDIR)/porthole
SYSCONFDIR ?= /etc
INIT_LINK ?= 1
INSTALL_ENGINE ?= 0
GUEST_LIBEXEC := porthole-agent porthole-relay
HOST_PROGS := porthole porthole-vsockd porthole-loadgen
# rootfs/etc/ (every guest) and the engine profile's files, as SYSCONFDIR's
GUEST_CONF := porthole/init.conf porthole/sysctl.conf porthole/services/porthole-agent.conf \
	porthole/services/porthole-relay.conf
ENGINE_CONF := porthole/services/containerd.conf porthole/services/dockerd.conf \
	docker/daemon.json porthole/containerd.toml
# the service files name the image's /usr/libexec/porthole/: the installed
# ones name where the programs went
subst_libexec = sed 's|/usr/libexec/porthole/|$(PKGLIBEXECDIR)/|g'

.PHONY: install-guest install-host install-engine uninstall uninstall-guest uninstall-host \
	uninstall-engine

install: install-guest install-host $(if $(filter 1,$(INSTALL_ENGINE)),install-engine)

install-guest: all
	install -D -m 0755 $(OUT)/bin/porthole-init $(DESTDIR)$(SBINDIR)/porthole-init
	if [ "$(INIT_LINK)" = 1 ] && [ "$(SBINDIR)" != /sbin ] && \
	   ! [ "$(DESTDIR)/sbin/porthole-init" -ef "$(DESTDIR)$(SBINDIR)/porthole-init" ]; then \
		install -d $(DESTDIR)/sbin && ln -sfn $(SBINDIR)/porthole-init $(DESTDIR)/sbin/porthole-init; \
	fi
	for b in $(GUEST_LIBEXEC); do \
		install -D -m 0755 $(OUT)/bin/$$b $(DESTDIR)$(PKGLIBEXECDIR)/$$b || exit 1; \
	done
	for f in $(GUEST_CONF); do \
		install -d $(DESTDIR)$(SYSCONFDIR)/$${f%/*} && \
		$(subst_libexec) rootfs/etc/$$f >$(DESTDIR)$(SYSCONFDIR)/$$f && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/$$f || exit 1; \
	done

install-host: all
	for b in $(HOST_PROGS); do \
		install -D -m 0755 $(OUT)/bin/$$b $(DESTDIR)$(BINDIR)/$$b || exit 1; \
	done

# The engine's service files, dockerd's daemon.json and containerd's
# configuration (rootfs/profiles/engine.etc/; containerd.conf names
# porthole/containerd.toml, and Debian's /etc/containerd stays the
# containerd package's).
install-engine:
	for f in $(ENGINE_CONF); do \
		install -d $(DESTDIR)$(SYSCONFDIR)/$${f%/*} && \
		$(subst_libexec) rootfs/profiles/engine.etc/$$f >$(DESTDIR)$(SYSCONFDIR)/$$f && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/$$f || exit 1; \
	done

# Exactly what install put there; directories only when left empty.
uninstall: uninstall-guest uninstall-host uninstall-engine

uninstall-guest:
	rm -f $(DESTDIR)$(SBINDIR)/porthole-init $(addprefix $(DESTDIR)$(PKGLIBEXECDIR)/,$(GUEST_LIBEXEC)) \
		$(addprefix $(DESTDIR)$(SYSCONFDIR)/,$(GUEST_CONF))
	[ "$$(readlink $(DESTDIR)/sbin/porthole-init)" != $(SBINDIR)/porthole-init ] || \
		rm -f $(DESTDIR)/sbin/porthole-init
	rmdir $(DESTDIR)$(PKGLIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/porthole/services \
		$(DESTDIR)$(SYSCONFDIR)/porthole 2>/dev/null || true

uninstall-host:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(HOST_PROGS))

uninstall-engine:
	rm -f $(addprefix $(DESTDIR)$(SYSCONFDIR)/,$(ENGINE_CONF))
	rmdir $(DESTDIR)$(SYSCONFDIR)/porthole/services $(DESTDIR)$(SYSCONFDIR)/porthole \
		$(DESTDIR)$(SYSCONFDIR)/docker 2>/dev/null || true

# porthole's Debian packages (debian/) in $(BUILD)/deb/, built from a copy of
# the tree and checked with lintian (scripts/build-deb, docs/install.md).
.PHONY: deb
deb:
	BUILD=$(BUILD) scripts/build-deb

format:
	clang-format -i $(wildcard init/*.[ch] lib/*.[ch] agent/*.[ch] host/*.[ch] tests/unit/*.c tests/fuzz/*.c tests/helpers/*.c)

# The manual pages (man/, written in man(7): nothing to build) and bash's
# completion of porthole, which porthole prints from its own command table
# (docs/cli.md). The host's porthole prints it, whatever ARCH: the script is
# the same for every architecture. The host's pages and the completion go
# with install-host, the guest's pages with install-guest (and uninstall-*).
MANDIR ?= $(PREFIX)/share/man
BASH_COMPLETIONSDIR ?= $(PREFIX)/share/bash-completion/completions
MAN_HOST := man/porthole.1 man/porthole-vsockd.1 man/porthole-loadgen.1
MAN_GUEST := man/porthole-init.8 man/porthole-agent.8 man/porthole-relay.8 \
	man/porthole-init.conf.5 man/porthole.service.5
COMPLETION := $(BUILD)/share/bash-completion/porthole
man_dest = $(foreach p,$(1),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))

.PHONY: install-man install-man-host install-man-guest install-completion uninstall-man \
	uninstall-man-host uninstall-man-guest uninstall-completion

$(COMPLETION): host/porthole.c host/cli-complete.c host/cli-complete.h
	$(MAKE) --no-print-directory ARCH=$(HOST_ARCH) $(BUILD)/bin/porthole
	@mkdir -p $(@D)
	$(BUILD)/bin/porthole --complete-bash >$@.tmp && mv $@.tmp $@

install-host: install-man-host install-completion
install-guest: install-man-guest
install-man: install-man-host install-man-guest
install-man-host install-man-guest: install-man-%:
	for p in $(if $(filter host,$*),$(MAN_HOST),$(MAN_GUEST)); do \
		s=$${p##*.}; install -D -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${s%%[!0-9]*}/$${p##*/} || exit 1; \
	done
install-completion: $(COMPLETION)
	install -D -m 0644 $(COMPLETION) $(DESTDIR)$(BASH_COMPLETIONSDIR)/porthole

uninstall-host: uninstall-man-host uninstall-completion
uninstall-guest: uninstall-man-guest
uninstall-man: uninstall-man-host uninstall-man-guest
uninstall-man-host:
	rm -f $(call man_dest,$(MAN_HOST))
uninstall-man-guest:
	rm -f $(call man_dest,$(MAN_GUEST))
uninstall-completion:
	rm -f $(DESTDIR)$(BASH_COMPLETIONSDIR)/porthole

# every ARCH's build, whichever is asked for (images are kept, as the host's are)
clean:
	rm -rf $(foreach d,$(BUILD) $(BUILD)/x86_64 $(BUILD)/arm64,$(addprefix $(d)/,obj obj-san bin bin-san \
		tests fuzz))

# also the kernel, package and image caches, the docker CLI and make run's
# data disk (and never through a mount, such as fresh-check's tree would have
# if it had been killed); make run's VM is stopped first, not left running
# on a deleted disk
distclean:
	@scripts/stop-vm --dir $(VM_DIR) | grep -v '^stop-vm: no VM running' || true
	rm -rf --one-file-system $(BUILD)

-include $(shell find $(OUT)/obj $(OUT)/obj-san -name '*.d' 2>/dev/null)
