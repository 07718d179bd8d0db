# Cross-compiling for s390x, a big-endian 64-bit CPU that Debian 12 has
# libraries for (gcc-s390x-linux-gnu, libcmocka-dev:s390x, libfdt1:s390x,
# libfuse3-3:s390x), run with qemu-user (tests/bigendian/run.sh, docs/porting.md "Byte order").
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE s390x-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-s390x)
