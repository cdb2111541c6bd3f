defmodule LambdaRuntime.Tools.Layer.Target do
  @moduledoc """
  What a Lambda runtime image gives the layer's ELF files: the CPU
  architecture, the shared libraries (sonames) it has, and the newest
  symbol version of each versioned family it provides (`GLIBC_2.34`,
  `GCC_7.0.0`, ...). `LambdaRuntime.Tools.Layer.ElfCheck` checks a layer
  against one of these; the layer manifest records which one.

      target = Target.al2023(:arm64)
      target = Target.with_glibc(target, {2, 31})        # build for an older glibc
      target = Target.with_system_libs(target, ["libfoo.so.1"])
      Target.forced(target)                              # [] unless a limit was raised

  The table below is the only place the facts live. It is a floor: the
  versions `provided.al2023` had when it came out. Later images carry newer
  libraries (a 2025 arm64 image listed libgcc_s from GCC 14 and
  libcrypto.so.3.2.2), but a layer that needs only the floor runs on all.

  A soname that is not in the table is treated as absent: the layer must
  bundle it (in `shlib/`) or the user must declare it (`with_system_libs/2`,
  e.g. a library another layer provides).
  """

  # Sources:
  #   glibc 2.34, GCC 11: the AL2023 user guide, "Core toolchain packages
  #     glibc, gcc, binutils" (docs.aws.amazon.com/linux/al2023/ug/core-glibc.html)
  #     and "Improved toolchain" (glibc-gcc-and-binutils.html); provided.al2023
  #     is the AL2023 minimal container image (AWS Compute Blog, "Introducing
  #     the Amazon Linux 2023 runtime for AWS Lambda").
  #   GCC 11's libgcc_s: its newest version node is GCC_7.0.0; GCC 12 added
  #     GCC_12.0.0 (__truncxfhf2, __extendhfdf2, __truncdfhf2 half-float helpers),
  #     which Debian 12's beam.smp needs (measured here).
  #   GCC 11's libstdc++: GLIBCXX_3.4.29 and CXXABI_1.3.13 (libstdc++ manual,
  #     "ABI Policy and Guidelines", versioning history: "GCC 11.1.0:
  #     GLIBCXX_3.4.29, CXXABI_1.3.13"); CXXABI_TM_1 exists since GCC 4.7.
  #   OpenSSL 3: the AL2023 user guide, "Comparing AL2 and AL2023" (OpenSSL 3,
  #     package openssl-libs). Only the OPENSSL_3.0.0 node is allowed: 3.0.x is
  #     what AL2023 shipped first.
  #   Sonames present in the image: a listing of /lib64 in
  #     public.ecr.aws/lambda/provided:al2023 (x86_64 and arm64), kept by the
  #     Bref project (github.com/brefphp/aws-lambda-layers,
  #     utils/lib-copy/libs-x86.txt and libs-arm.txt): glibc's libraries,
  #     libgcc_s.so.1, libstdc++.so.6, libcrypto.so.3, libssl.so.3 and
  #     libz.so.1 (zlib 1.2.11, whose newest version node is ZLIB_1.2.9; the
  #     limit is the library's version). libmvec.so.1 is in the x86_64 listing
  #     only. The listing has more (libtinfo.so.6, libxml2.so.2, ...), left
  #     out here until their version nodes are in the table too.

  @glibc_libs ~w(libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libutil.so.1
                 libresolv.so.2 libanl.so.1 libBrokenLocale.so.1 libthread_db.so.1
                 libc_malloc_debug.so.0 libnss_files.so.2 libnss_dns.so.2 libnss_compat.so.2)

  @other_libs ~w(libgcc_s.so.1 libstdc++.so.6 libcrypto.so.3 libssl.so.3 libz.so.1)

  @al2023_versions %{
    "GLIBC" => [2, 34],
    "GCC" => [7, 0, 0],
    "GLIBCXX" => [3, 4, 29],
    "CXXABI" => [1, 3, 13],
    "CXXABI_TM" => [1],
    "OPENSSL" => [3, 0, 0],
    "ZLIB" => [1, 2, 11]
  }

  @arches %{
    x86_64: %{machine: :x86_64, interpreter: "ld-linux-x86-64.so.2", extra: ["libmvec.so.1"]},
    arm64: %{machine: :aarch64, interpreter: "ld-linux-aarch64.so.1", extra: []}
  }

  defstruct [
    :name,
    :arch,
    :machine,
    :interpreter,
    :baseline,
    glibc_libs: [],
    libraries: [],
    system_libs: [],
    versions: %{}
  ]

  @type arch :: :x86_64 | :arm64
  @type t :: %__MODULE__{
          name: String.t(),
          arch: arch(),
          machine: :x86_64 | :aarch64,
          interpreter: String.t(),
          baseline: %{String.t() => [non_neg_integer()]},
          glibc_libs: [String.t()],
          libraries: [String.t()],
          system_libs: [String.t()],
          versions: %{String.t() => [non_neg_integer()]}
        }

  @doc "`provided.al2023` for `:x86_64` or `:arm64` (or `\"x86_64\"`/`\"arm64\"`)."
  @spec al2023(arch() | String.t()) :: t()
  def al2023(arch) do
    arch = arch!(arch)
    %{machine: machine, interpreter: interpreter, extra: extra} = Map.fetch!(@arches, arch)

    %__MODULE__{
      name: "provided.al2023",
      arch: arch,
      machine: machine,
      interpreter: interpreter,
      glibc_libs: [interpreter | @glibc_libs] ++ extra,
      libraries: @other_libs,
      baseline: @al2023_versions,
      versions: @al2023_versions
    }
  end

  @doc """
  Sets the glibc limit, e.g. `{2, 31}` for a layer built for an older glibc
  than the target's. A limit above the target's own (the host-built escape
  hatch) is recorded by `forced/1`.
  """
  @spec with_glibc(t(), {non_neg_integer(), non_neg_integer()}) :: t()
  def with_glibc(%__MODULE__{} = target, {major, minor})
      when is_integer(major) and is_integer(minor) do
    %{target | versions: Map.put(target.versions, "GLIBC", [major, minor])}
  end

  @doc """
  Adds sonames the function's environment provides beyond the table (e.g.
  from another layer): they are neither bundled nor reported missing.
  """
  @spec with_system_libs(t(), [String.t()]) :: t()
  def with_system_libs(%__MODULE__{} = target, sonames) when is_list(sonames) do
    %{target | system_libs: Enum.uniq(target.system_libs ++ sonames)}
  end

  @doc "The glibc limit as `{major, minor}`."
  @spec glibc(t()) :: {non_neg_integer(), non_neg_integer()}
  def glibc(%__MODULE__{versions: %{"GLIBC" => [major, minor | _]}}), do: {major, minor}

  @doc "True when `soname` is one of glibc's own libraries on this target."
  @spec glibc_lib?(t(), String.t()) :: boolean()
  def glibc_lib?(%__MODULE__{glibc_libs: libs}, soname), do: soname in libs

  @doc "True when the target (or a declared system library) provides `soname`."
  @spec provides?(t(), String.t()) :: boolean()
  def provides?(%__MODULE__{} = t, soname),
    do: soname in t.glibc_libs or soname in t.libraries or soname in t.system_libs

  @doc """
  The newest version of a version-node family the target provides (e.g.
  `limit(t, "GCC")` is `[7, 0, 0]`), or nil when the table does not know the
  family.
  """
  @spec limit(t(), String.t()) :: [non_neg_integer()] | nil
  def limit(%__MODULE__{versions: versions}, family), do: Map.get(versions, family)

  @doc """
  Why a layer built against `target` may not start on the real image: one
  sentence per limit raised above the table. Empty for a normal build.
  """
  @spec forced(t()) :: [String.t()]
  def forced(%__MODULE__{} = t) do
    for {family, limit} <- Enum.sort(t.versions),
        base = Map.get(t.baseline, family),
        base == nil or newer?(limit, base) do
      "#{family}_#{version_string(limit)} allowed, past #{t.name}'s " <>
        if(base, do: "#{family}_#{version_string(base)}", else: "table")
    end
  end

  @doc """
  Splits a version node name into its family and version:
  `"GLIBC_2.2.5"` → `{"GLIBC", [2, 2, 5]}`, `"CXXABI_TM_1"` →
  `{"CXXABI_TM", [1]}`; `:error` for names without a version
  (`"GLIBC_PRIVATE"`).
  """
  @spec split_node(String.t()) :: {String.t(), [non_neg_integer()]} | :error
  def split_node(name) do
    case Regex.run(~r/^([A-Z][A-Z0-9_]*?)_(\d+(?:\.\d+)*)$/, name) do
      [_, family, version] -> {family, parse_numbers(version)}
      nil -> :error
    end
  end

  @doc """
  True when version `a` is newer than `b` (`[7, 0, 1]` > `[7]`; trailing
  zeros do not count).
  """
  @spec newer?([non_neg_integer()], [non_neg_integer()]) :: boolean()
  def newer?(a, b), do: pad(a, length(b)) > pad(b, length(a))

  defp pad(list, n), do: list ++ List.duplicate(0, max(n - length(list), 0))

  @doc "`[2, 2, 5]` as `\"2.2.5\"`."
  @spec version_string([non_neg_integer()]) :: String.t()
  def version_string(numbers), do: Enum.map_join(numbers, ".", &Integer.to_string/1)

  @doc "The Lambda name of an architecture: `\"x86_64\"` or `\"arm64\"`."
  @spec arch_name(arch()) :: String.t()
  def arch_name(arch) when arch in [:x86_64, :arm64], do: Atom.to_string(arch)

  @doc "Parses `\"x86_64\"` or `\"arm64\"`."
  @spec parse_arch(String.t() | atom()) :: {:ok, arch()} | {:error, String.t()}
  def parse_arch(arch) when arch in [:x86_64, :arm64], do: {:ok, arch}
  def parse_arch("x86_64"), do: {:ok, :x86_64}
  def parse_arch("arm64"), do: {:ok, :arm64}

  def parse_arch(other),
    do: {:error, "unknown architecture #{inspect(other)}: use x86_64 or arm64"}

  @doc "The architecture of the machine running this VM, as a Lambda architecture."
  @spec host_arch() :: arch()
  def host_arch do
    case :erlang.system_info(:system_architecture) |> to_string() |> String.split("-") do
      ["aarch64" | _] -> :arm64
      _ -> :x86_64
    end
  end

  defp arch!(arch) do
    case parse_arch(arch) do
      {:ok, arch} -> arch
      {:error, message} -> raise ArgumentError, message
    end
  end

  defp parse_numbers(version),
    do: version |> String.split(".") |> Enum.map(&String.to_integer/1)
end
