# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "QCC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qcc_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "E2E", "Conformance"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# The test Python (a virtual environment with onnx and numpy) builds models.
python = os.path.join(config.qcc_src_root, ".venv", "bin", "python")
if not os.path.exists(python):
    python = os.environ.get("QCC_TEST_PYTHON", "python3")
# Ahead of lit's own %python (the interpreter running lit).
config.substitutions.insert(0, ("%python", python))

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.qcc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["qcc-opt", "qcc", "qcc-run"], tool_dirs)
llvm_config.with_environment("PATH", config.qcc_tools_dir, append_path=True)
