"""A programme's survey method, as its report states it (issue #24)."""
