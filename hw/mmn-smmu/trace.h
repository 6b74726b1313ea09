#include "trace/trace-hw_mmn_smmu.h"
