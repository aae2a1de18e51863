################################################################################
#
# keepalived-rs
#
################################################################################

# There is no release tarball yet: build the source tree this br2-external
# tree is part of (its parent directory). For a release, replace the
# VERSION/SITE/SITE_METHOD lines as described in README.md and put the
# hash of the vendored tarball in keepalived-rs.hash.
KEEPALIVED_RS_VERSION = 0.1.0
KEEPALIVED_RS_SITE = $(BR2_EXTERNAL_KEEPALIVED_RS_PATH)/..
KEEPALIVED_RS_SITE_METHOD = local
KEEPALIVED_RS_LICENSE = MIT
KEEPALIVED_RS_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /target --exclude /buildroot --exclude /board

# Keep the size-oriented release profile of Cargo.toml (Buildroot's
# defaults would turn LTO off and use 16 codegen units).
KEEPALIVED_RS_CARGO_ENV = \
	CARGO_PROFILE_RELEASE_OPT_LEVEL="z" \
	CARGO_PROFILE_RELEASE_LTO="true" \
	CARGO_PROFILE_RELEASE_CODEGEN_UNITS="1"

# The load balancer is the crate's default feature "lb"; without it the
# daemon is VRRP only (keepalived's --disable-lvs). cargo-package builds
# once and installs with a second cargo call: both need the option.
ifneq ($(BR2_PACKAGE_KEEPALIVED_RS_LVS),y)
KEEPALIVED_RS_CARGO_BUILD_OPTS += --no-default-features
KEEPALIVED_RS_CARGO_INSTALL_OPTS += --no-default-features
endif

# Buildroot vendors the crates of a downloaded tarball (cargo vendor at
# download time, the tarball then holds VENDOR/), but not those of a local
# or overridden source tree: vendor those here, before the offline build.
# This needs network access; it runs again on 'make keepalived-rs-reconfigure'
# when Cargo.lock is newer than VENDOR/.
define KEEPALIVED_RS_VENDOR_LOCAL_SOURCE
	if [ ! -d $(@D)/VENDOR ] || [ $(@D)/Cargo.lock -nt $(@D)/VENDOR ]; then \
		mkdir -p $(@D)/.cargo $(BR_CARGO_HOME) && \
		cd $(@D) && \
		$(HOST_MAKE_ENV) $(PKG_COMMON_CARGO_ENV) \
			flock $(BR_CARGO_HOME)/.br-lock \
			cargo vendor --locked VENDOR > $(@D)/.cargo/config.toml && \
		echo "(note: .cargo/config.toml written by keepalived-rs.mk)"; \
	fi
endef
KEEPALIVED_RS_PRE_CONFIGURE_HOOKS += KEEPALIVED_RS_VENDOR_LOCAL_SOURCE

# cargo install puts the binary in /usr/bin; keepalived lives in /usr/sbin.
ifeq ($(BR2_ROOTFS_MERGED_BIN),)
define KEEPALIVED_RS_MOVE_TO_SBIN
	mkdir -p $(TARGET_DIR)/usr/sbin
	mv $(TARGET_DIR)/usr/bin/keepalived-rs $(TARGET_DIR)/usr/sbin/keepalived-rs
endef
KEEPALIVED_RS_POST_INSTALL_TARGET_HOOKS += KEEPALIVED_RS_MOVE_TO_SBIN
endif

# Install the default configuration only when there is none yet, so a
# configuration edited in the target directory is never overwritten.
define KEEPALIVED_RS_INSTALL_DEFAULT_CONF
	if [ ! -e $(TARGET_DIR)/etc/keepalived/keepalived.conf ]; then \
		$(INSTALL) -D -m 0644 $(KEEPALIVED_RS_PKGDIR)/keepalived.conf \
			$(TARGET_DIR)/etc/keepalived/keepalived.conf; \
	fi
endef
KEEPALIVED_RS_POST_INSTALL_TARGET_HOOKS += KEEPALIVED_RS_INSTALL_DEFAULT_CONF

define KEEPALIVED_RS_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(KEEPALIVED_RS_PKGDIR)/S45keepalived-rs \
		$(TARGET_DIR)/etc/init.d/S45keepalived-rs
endef

$(eval $(cargo-package))
