# admd — guided-diffusion batch generator.  Build, test and install.
#
#   make            build build/admd, build/admctl and the test programs
#   make check      run the whole test suite (prints "N passed, N failed")
#   make check-oclgrind  every kernel under the Oclgrind simulator's checks
#   make asan       build and run the tests under AddressSanitizer + UBSan
#   make install    install under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local)
#   make uninstall  remove it again (keeps /etc/default/admd and /var data)
#   make deb        the Debian package (debian/, dpkg-buildpackage) in build/deb
#   make check-deb  build it, lintian, check its contents, install it in a debootstrap
#                   chroot as root (needs debhelper, lintian, debootstrap)
#   make demo       first picture: spool + daemon on the embedded MNIST model
#
# Sources are found by wildcard: a new .c in base/ kernels/ model/ spool/
# output/ fleet/ daemon/lib_* joins libadm (README "Architecture": which folder may
# include which), a new kernels/*.cl is embedded, a new schema/*.sql is
# embedded, a new tests/test_*.c becomes a test program.

PREFIX    ?= /usr/local
# systemd looks for units under /usr/local/lib too, but sysusers.d only in
# /etc, /run and /usr/lib: outside /usr the snippets go to /etc.
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/sysusers.d,/etc/sysusers.d)
TMPFILESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/tmpfiles.d,/etc/tmpfiles.d)
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS      := sqlite3 libpng libsystemd libzip libcrypto json-c smartcols lapacke openblas libnats
CPPFLAGS  += -I. -Ibase -Ikernels -Imodel -Ispool -Ioutput -Ifleet -Idaemon -I$(BUILD) -DADM_VERSION='"$(VERSION)"' \
             -DCL_TARGET_OPENCL_VERSION=120 -D_GNU_SOURCE
CFLAGS    ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-deprecated-declarations \
             -ffp-contract=off -pthread $(shell pkg-config --cflags $(PKGS))
LDLIBS    += -lclblast -lOpenCL $(shell pkg-config --libs $(PKGS)) -lm -pthread

LIB_SRC   := $(wildcard base/*.c kernels/*.c model/*.c spool/*.c output/*.c fleet/*.c daemon/lib_*.c)
LIB_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/gen/cl_sources.o $(BUILD)/gen/schema_sql.o \
             $(BUILD)/gen/label_sources.o
CL_SRC    := $(sort $(wildcard kernels/*.cl))
SQL_SRC   := $(sort $(wildcard schema/*.sql))
LABEL_SRC := models/imagenet/imagenet_classes.txt models/mnist/mnist_classes.txt
ADMD_SRC  := $(filter-out daemon/lib_%.c,$(wildcard daemon/*.c))
ADMCTL_SRC:= $(wildcard tools/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

BINS      := $(if $(ADMD_SRC),$(BUILD)/admd) $(if $(ADMCTL_SRC),$(BUILD)/admctl)

all: $(BINS) $(TEST_BIN)

$(BUILD)/%.o: %.c $(wildcard */*.h) | $(BUILD)/gen
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The host noise generator includes the OpenCL source it shares with the device.
$(BUILD)/model/philox.o: kernels/noise.cl
# The host sampling step compiles the step kernels' formulas too.
$(BUILD)/model/sampler.o $(BUILD)/kernels/ops_step.o: kernels/step.cl

$(BUILD)/gen:
	@mkdir -p $@

# OpenCL sources, SQL migrations and the built-in class names (model/labels.c)
# are embedded as C string tables.
$(BUILD)/gen/cl_sources.c: $(CL_SRC) tools/embed.sh | $(BUILD)/gen
	sh tools/embed.sh adm_cl_sources $(CL_SRC) > $@
$(BUILD)/gen/schema_sql.c: $(SQL_SRC) tools/embed.sh | $(BUILD)/gen
	sh tools/embed.sh adm_schema_sql $(SQL_SRC) > $@
$(BUILD)/gen/label_sources.c: $(LABEL_SRC) tools/embed.sh | $(BUILD)/gen
	sh tools/embed.sh adm_label_sources $(LABEL_SRC) > $@
$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libadm.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/admd: $(patsubst %.c,$(BUILD)/%.o,$(ADMD_SRC)) $(BUILD)/libadm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/admctl: $(patsubst %.c,$(BUILD)/%.o,$(ADMCTL_SRC)) $(BUILD)/libadm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/check.h $(BUILD)/libadm.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(BUILD)/libadm.a $(LDFLAGS) $(LDLIBS)

check: all
	BUILD=$(BUILD) sh tests/run.sh

# Every kernel under Oclgrind (uninitialised reads, races, bounds, API
# misuse) on tiny configs; any report fails.  tests/oclgrind/run.sh.
check-oclgrind: all $(BUILD)/tests/oclgrind/tiny_nets $(BUILD)/tests/oclgrind/canary $(BUILD)/tests/oclgrind/slot_reuse
	BUILD=$(BUILD) sh tests/oclgrind/run.sh

# Sanitizer build in its own folder; same suite.
asan:
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" check

# libFuzzer targets (clang).  FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libadm.a
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

install: $(BUILD)/admd $(BUILD)/admctl
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/admd/models
	install -m 755 $(BUILD)/admd $(BUILD)/admctl $(DESTDIR)$(PREFIX)/bin/
	cp -r models/. $(DESTDIR)$(PREFIX)/share/admd/models/
	if [ -d systemd ] && [ -f systemd/admd.service ]; then \
	  install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR); \
	  for u in admd.service admd-prune.service admd-prune.timer admd-metrics.service admd-metrics.timer; do \
	    sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 644 $(DESTDIR)$(UNITDIR)/$$u; \
	  done; \
	  install -d $(DESTDIR)/etc/default; \
	  [ -e $(DESTDIR)/etc/default/admd ] || install -m 644 systemd/admd.default $(DESTDIR)/etc/default/admd; \
	  install -m 644 systemd/admd.sysusers $(DESTDIR)$(SYSUSERSDIR)/admd.conf; \
	  install -m 644 systemd/admd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/admd.conf; \
	  echo "installed the admd service; as root: systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload && systemctl enable --now admd"; \
	fi
	if [ -d docs/man ]; then install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8; \
	  for m in docs/man/*.1; do [ -f $$m ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; \
	  for m in docs/man/*.8; do [ -f $$m ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; fi
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 completion/admctl $(DESTDIR)$(COMPLETIONDIR)/admctl

# Removes what install put there, except /etc/default/admd (the operator's
# settings) and the spool, outputs and caches under /var (their data).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/admd $(DESTDIR)$(PREFIX)/bin/admctl
	rm -rf $(DESTDIR)$(PREFIX)/share/admd
	for u in admd.service admd-prune.service admd-prune.timer admd-metrics.service admd-metrics.timer; do \
	  rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/admd.conf $(DESTDIR)$(TMPFILESDIR)/admd.conf
	for m in docs/man/*.1; do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$m); done
	for m in docs/man/*.8; do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$(basename $$m); done
	rm -f $(DESTDIR)$(COMPLETIONDIR)/admctl
	@[ ! -e $(DESTDIR)/etc/default/admd ] || echo "kept $(DESTDIR)/etc/default/admd (your settings); the spool and images under /var/lib/admd stay too"

# The Debian package, built from a copy of the tree (tracked and new files)
# in $(BUILD)/deb, so this tree's build/ is left alone: $(BUILD)/deb/admd_*.deb.
# Needs debhelper (apt-get install debhelper); `lintian $(BUILD)/deb/*.changes` checks it.
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/admd-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - | tar xf - -C $(BUILD)/deb/admd-$(VERSION)
	cd $(BUILD)/deb/admd-$(VERSION) && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# `make deb`, then lintian (no error) and the package's contents and scripts.
check-deb:
	mkdir -p $(BUILD) && BUILD=$(BUILD) sh tests/deb/run.sh | tee $(BUILD)/check-deb.log
	! grep -q '^FAIL' $(BUILD)/check-deb.log

# The GPU check: self-test, parity, benchmarks, engines on the first non-CPU
# device (DEVICE_CHECK_ARGS="--device D", "--small", ...); writes device-check.json.
device-check: $(BUILD)/admctl
	ADMCTL=$(BUILD)/admctl sh tools/device-check.sh $(DEVICE_CHECK_ARGS)

# First picture: deps, build, spool under ./demo, admd --drain, contact sheet.
demo:
	BUILD=$(BUILD) sh tools/demo.sh

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all check check-oclgrind asan fuzz install uninstall deb check-deb clean demo device-check
.DELETE_ON_ERROR:
