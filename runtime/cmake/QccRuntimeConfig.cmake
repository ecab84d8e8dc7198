# Package configuration of the installed qcc runtime: provides qcc::runtime.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include("${CMAKE_CURRENT_LIST_DIR}/QccRuntimeTargets.cmake")
