# The source lists, shared by the build (CMakeLists.txt), the big-endian
# build of the tests (tests/bigendian/) and the scripts that build the core
# for other CPUs (tests/build/core_arm.sh, core_mips.sh, remote_image.sh).

# The core: freestanding, no allocation, no OS headers (see tests/build/).
set(RPK_CORE_SOURCES
    src/common/errno.c
    src/common/mem.c
    src/virtio/virtqueue.c
    src/virtio/vq_driver.c
    src/virtio/vq_device.c
    src/virtio/vq_either.c
    src/virtio/vq_event.c
    src/rpmsg/rpmsg.c
    src/rpmsg/role.c
    src/rpmsg/master.c
    src/rpmsg/remote.c
    src/rpmsg/driver_tx.c
    src/rpmsg/device_rx.c
    src/rpmsg/symmetric.c
    src/rpmsg/tap.c
    src/rpmsg/either_role.c
    src/rpmsg/ept_table.c
    src/rpmsg/endpoint.c
    src/rpmsg/nameservice.c
    src/rpmsg/ns_listen.c
    src/rpmsg/event_idx.c
    src/rproc/rsc_table.c
    src/rproc/rsc_swap.c
    src/rproc/elf.c
    src/rproc/trace.c
    src/link/link_header.c)

# The resource table's place written into a devicetree (rpk dtb patch), for
# boot loaders too: freestanding like the core, but it needs libfdt, which the
# core does not, so it is a library of its own (rpk_dtbpatch).
set(RPK_DTBPATCH_SOURCES
    src/dtb/dtb_patch.c)

# Host port and hosted runtime: processes, shared files, futex doorbells, threads.
set(RPK_HOST_SOURCES
    port/posix/shm.c
    port/posix/port.c
    port/posix/cache_sim.c
    port/posix/access.c
    port/posix/guard.c
    port/posix/pid.c
    port/posix/stream_bell.c
    port/posix/ivshmem.c
    host/layout/layout.c
    host/node/node.c
    host/node/stats.c
    host/node/table.c
    host/node/attach.c
    host/node/boot.c
    host/node/serve.c
    host/node/link.c
    host/node/watch.c
    host/node/run.c
    host/node/inbox.c
    host/node/chaos.c
    host/observe/observe.c
    host/msgtrace/writer.c
    host/msgtrace/reader.c
    host/msgtrace/take.c)

# rpk up's devices, which only the tool links: endpoint files (FUSE) and
# network interfaces (TAP).
set(RPK_SERVICE_SOURCES
    host/netdev/netdev.c
    host/chardev/chardev.c
    host/chardev/eptdev.c
    host/chardev/fs.c
    host/chardev/counters.c
    host/chardev/msgqueue.c
    host/tty/pty_bridge.c
    host/tty/tty_service.c)

# The rpk command.
set(RPK_TOOL_SOURCES
    tools/rpk/main.c
    tools/rpk/cmd_run.c
    tools/rpk/cmd_up.c
    tools/rpk/cmd_demo.c
    tools/rpk/cmd_ping.c
    tools/rpk/cmd_bench.c
    tools/rpk/bench/samples.c
    tools/rpk/bench/figures.c
    tools/rpk/bench/baselines_shm.c
    tools/rpk/bench/baselines_unix.c
    tools/rpk/bench/remote.c
    tools/rpk/bench/rpmsg_cases.c
    tools/rpk/bench/report.c
    tools/rpk/bench/plots.c
    tools/rpk/bench/instructions.c
    tools/rpk/cmd_vhost_user.c
    tools/rpk/cmd_ivshmem_server.c
    tools/rpk/cmd_status.c
    tools/rpk/cmd_trace.c
    tools/rpk/trace_messages.c
    tools/rpk/cmd_stat.c
    tools/rpk/escape.c
    tools/rpk/features.c
    tools/rpk/cmd_gen.c
    tools/rpk/cmd_rsc.c
    tools/rpk/cmd_rsc_check.c
    tools/rpk/cmd_dtb.c
    tools/rpk/echo.c
    tools/rpk/proc.c
    tools/rpk/boot.c)
