defmodule LambdaRuntime.Tools.Layer.Platform do
  @moduledoc """
  The machine a portable layer is built for: a Lambda architecture and the
  oldest glibc the layer's native code may need. Every tool names that
  machine differently, so this module holds the one translation:

  | architecture | zig (`-target`)           | autoconf (`--host`)       | Rust (`--target`)            | OpenSSL `Configure` |
  | ------------ | ------------------------- | ------------------------- | ---------------------------- | ------------------- |
  | `x86_64`     | `x86_64-linux-gnu.2.31`   | `x86_64-pc-linux-gnu`     | `x86_64-unknown-linux-gnu`   | `linux-x86_64`      |
  | `arm64`      | `aarch64-linux-gnu.2.31`  | `aarch64-unknown-linux-gnu` | `aarch64-unknown-linux-gnu` | `linux-aarch64`     |

  The default glibc is 2.31: older than `provided.al2023`'s 2.34, so that
  the layer also starts on the bullseye root the tests run it in, and no
  newer than what zig's libc stubs and the OTP/OpenSSL sources need.
  """

  @enforce_keys [:arch, :glibc]
  defstruct [:arch, :glibc]

  @type arch :: :x86_64 | :arm64
  @type t :: %__MODULE__{arch: arch(), glibc: {non_neg_integer(), non_neg_integer()}}

  @default_glibc {2, 31}

  @doc "The default target glibc, `{2, 31}`."
  def default_glibc, do: @default_glibc

  @doc "`\"2.31\"`."
  def glibc_string(%__MODULE__{glibc: {major, minor}}), do: "#{major}.#{minor}"

  @doc "zig's target: `x86_64-linux-gnu.2.31`."
  def zig_target(%__MODULE__{} = p), do: "#{cpu(p)}-linux-gnu.#{glibc_string(p)}"

  @doc "The autoconf host triple OTP's configure takes."
  def gnu_triple(%__MODULE__{arch: :x86_64}), do: "x86_64-pc-linux-gnu"
  def gnu_triple(%__MODULE__{arch: :arm64}), do: "aarch64-unknown-linux-gnu"

  @doc "The Rust target triple (cargo-zigbuild appends `.GLIBC`)."
  def rust_triple(%__MODULE__{} = p), do: "#{cpu(p)}-unknown-linux-gnu"

  @doc "OpenSSL's `Configure` target."
  def openssl_target(%__MODULE__{} = p), do: "linux-#{cpu(p)}"

  @doc "The CPU name of the GNU and zig triples (`x86_64`, `aarch64`)."
  def cpu(%__MODULE__{arch: :x86_64}), do: "x86_64"
  def cpu(%__MODULE__{arch: :arm64}), do: "aarch64"

  @doc "A short name for cache folders: `x86_64-glibc2.31`."
  def slug(%__MODULE__{} = p), do: "#{cpu(p)}-glibc#{glibc_string(p)}"

  @doc "True when code built for `platform` runs natively on this machine."
  def native?(%__MODULE__{arch: arch}), do: arch == LambdaRuntime.Tools.Layer.Target.host_arch()
end
