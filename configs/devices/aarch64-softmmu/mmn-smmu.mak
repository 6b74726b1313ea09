# mmn-smmu: the minimal aarch64 device set (virt, sbsa-ref) plus our device.
# Selected with configure --with-devices-aarch64=mmn-smmu.

include minimal.mak

CONFIG_MMN_SMMU=y
CONFIG_MMN_SMMUV3=y
