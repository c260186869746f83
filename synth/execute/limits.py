"""`Limits`: what one program may use. Every field is part of an execution's cache key.

>>> str(Limits())
'cpu2_wall10_mem512_out65536_file16_proc32_scratch64'
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Per-program limits; the defaults suit a unit test of a short function."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_s: int = Field(2, ge=1, le=3600, description="CPU seconds per process (RLIMIT_CPU; SIGXCPU, then SIGKILL)")
    wall_s: float = Field(10.0, gt=0, le=3600, description="wall-clock seconds; then the process group is killed")
    memory_mb: int = Field(512, ge=32, le=1 << 20, description="address space per process, MiB (RLIMIT_AS)")
    output_bytes: int = Field(64 * 1024, ge=1024, le=1 << 30,
                              description="stdout + stderr read back; more kills the program (output_limit)")
    file_mb: int = Field(16, ge=0, le=1 << 20, description="largest file a process may write, MiB (RLIMIT_FSIZE)")
    processes: int = Field(32, ge=1, le=4096, description="processes and threads of the sandbox user (RLIMIT_NPROC)")
    open_files: int = Field(256, ge=16, le=65536, description="open file descriptors per process (RLIMIT_NOFILE)")
    scratch_mb: int = Field(64, ge=1, le=1 << 20, description="size of the scratch and /tmp file systems, MiB "
                                                             "(bubblewrap's tmpfs; with plain rlimits only file_mb holds)")

    def __str__(self) -> str:
        return (f"cpu{self.cpu_s}_wall{self.wall_s:g}_mem{self.memory_mb}_out{self.output_bytes}_file{self.file_mb}"
                f"_proc{self.processes}_scratch{self.scratch_mb}")

    def rlimits(self) -> list[tuple[str, int, int]]:
        """(resource name, soft, hard) set in the sandbox right before the program starts."""
        mb = 1024 * 1024
        return [("RLIMIT_CPU", self.cpu_s, self.cpu_s + 1), ("RLIMIT_AS", self.memory_mb * mb, self.memory_mb * mb),
                ("RLIMIT_FSIZE", self.file_mb * mb, self.file_mb * mb), ("RLIMIT_NPROC", self.processes, self.processes),
                ("RLIMIT_NOFILE", self.open_files, self.open_files), ("RLIMIT_CORE", 0, 0)]
