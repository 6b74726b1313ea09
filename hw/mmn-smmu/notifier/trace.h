#include "trace/trace-hw_mmn_smmu_notifier.h"
