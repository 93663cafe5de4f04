# porthole: one non-recursive Makefile. `make` builds; `make check` sets up,
# builds, makes the image and runs every test tier; `make run` boots the VM.

PREFIX ?= /usr/local
DESTDIR ?=
PROFILE ?= minimal
BUILD ?= build
CC ?= cc
CLANG ?= clang

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wsign-compare -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -Ilib -Iinit \
	-DPORTHOLE_VERSION='"$(VERSION)"' -MMD -MP
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all


INIT_PKGS := inih libmnl libkmod

LIB_SRCS := lib/log.c lib/util.c
INIT_SRCS := $(wildcard init/*.c)
INIT_LIB_SRCS := $(filter-out init/main.c,$(INIT_SRCS))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
sanobj = $(patsubst %.c,$(BUILD)/obj-san/%.o,$(1))

BINS := $(BUILD)/bin/porthole-init
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

.PHONY: all deps check test unit image run stop install clean distclean format bench fuzz
.DEFAULT_GOAL := all

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(shell pkg-config --cflags $(INIT_PKGS)) -c -o $@ $<

$(BUILD)/obj-san/%.o: %.c
	@mkdir -p $(@D)
	$(say) "  CC/SAN  $<"
	$(Q)$(CC) $(CFLAGS) $(SAN) $(shell pkg-config --cflags $(INIT_PKGS) cmocka) -c -o $@ $<

$(BUILD)/bin/porthole-init: $(call obj,$(INIT_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(INIT_PKGS))

# Unit tests: cmocka, built with ASan and UBSan, linked with the init and lib
# modules (a test names the module it covers: test-config.c -> init/config.c).
$(BUILD)/tests/test-%: $(call sanobj,tests/unit/test-%.c $(INIT_LIB_SRCS) $(LIB_SRCS))
	@mkdir -p $(@D)
	$(say) "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(shell pkg-config --libs $(INIT_PKGS) cmocka)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(say) "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $<

# libFuzzer targets: clang only.
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(INIT_LIB_SRCS) $(LIB_SRCS)
	@mkdir -p $(@D)
	$(say) "  FUZZ    $@"
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -Ilib -Iinit -fsanitize=fuzzer,address,undefined \
		-o $@ $^ $(shell pkg-config --cflags --libs $(INIT_PKGS))

deps:
	@scripts/deps

unit: $(UNIT_TESTS)
fuzz: $(FUZZERS)

image: all
	scripts/image $(PROFILE)

# The README's test command. Every tier; ends with "check: N passed, N failed, N skipped".
check: deps
	$(MAKE) --no-print-directory all $(UNIT_TESTS) $(FUZZERS) $(HELPERS)
	scripts/image minimal
	tests/run

run: deps
	$(MAKE) --no-print-directory all
	scripts/image $(PROFILE)
	scripts/run-vm --profile $(PROFILE) --background
	@echo
	@echo "The VM runs in the background ($(PROFILE) profile)."
	@echo "  console (a shell):  python3 scripts/console build/vm/console.sock"
	@echo "  console log:        build/vm/console.log"
	@echo "  stop it:            make stop"

stop:
	scripts/stop-vm

bench:
	@echo "bench: nothing yet: the agent and its comparison with qemu-ga come with issue 3"

install: all
	install -D -m 0755 $(BUILD)/bin/porthole-init $(DESTDIR)$(PREFIX)/sbin/porthole-init
	install -D -m 0644 rootfs/etc/porthole/init.conf $(DESTDIR)/etc/porthole/init.conf

format:
	clang-format -i $(wildcard init/*.[ch] lib/*.[ch] agent/*.[ch] host/*.[ch] tests/*/*.c)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-san $(BUILD)/bin $(BUILD)/tests $(BUILD)/fuzz

# also the kernel, package and image caches
distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san -name '*.d' 2>/dev/null)
