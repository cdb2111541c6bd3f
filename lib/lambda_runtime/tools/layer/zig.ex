defmodule LambdaRuntime.Tools.Layer.Zig do
  @moduledoc """
  zig as the C and C++ compiler of portable layers: `zig cc -target
  x86_64-linux-gnu.2.31` links against stubs of that glibc version and
  links its own libc++ statically, so what it builds needs nothing newer
  than the target's glibc, whatever machine builds it.

  Found, in this order: `$ZIG`; `zig` on `PATH`; the `ziglang` Python
  package (PyPI), in the project's `.venv` or the `python3` on `PATH`.

  Autoconf and make want one program per tool, so `wrappers!/1` writes
  small scripts (`cc`, `c++`, `ar`, `ranlib`) that call zig for a
  target; they live in the build cache.
  """

  alias LambdaRuntime.Tools.Layer.{Cache, Platform}

  defstruct [:path, :version]
  @type t :: %__MODULE__{path: Path.t(), version: String.t()}

  @doc "Finds zig, or raises `Mix.Error` saying how to get it."
  @spec find!() :: t()
  def find! do
    case find() do
      {:ok, zig} ->
        zig

      :error ->
        Mix.raise("""
        zig was not found, and a portable layer needs it (it compiles ERTS, \
        OpenSSL and the NIF for the target's glibc). Install it with \
        `pip install ziglang`, or put zig on PATH, or set ZIG=/path/to/zig.
        """)
    end
  end

  @doc "Finds zig: `{:ok, %Zig{}}` or `:error`."
  @spec find() :: {:ok, t()} | :error
  def find do
    [&from_env/0, &from_path/0, &from_python/0]
    |> Enum.find_value(:error, fn source ->
      with path when is_binary(path) <- source.(),
           {:ok, version} <- version(path) do
        {:ok, %__MODULE__{path: path, version: version}}
      else
        _ -> nil
      end
    end)
  end

  defp from_env do
    case System.get_env("ZIG") do
      path when path not in [nil, ""] -> path
      _ -> nil
    end
  end

  defp from_path, do: System.find_executable("zig")

  defp from_python do
    pythons =
      [Path.join(File.cwd!(), ".venv/bin/python3"), System.find_executable("python3")]
      |> Enum.filter(&(is_binary(&1) and File.exists?(&1)))

    script = "import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))"

    Enum.find_value(pythons, fn python ->
      case System.cmd(python, ["-c", script], stderr_to_stdout: true) do
        {out, 0} -> out |> String.trim() |> then(&if(File.regular?(&1), do: &1))
        _ -> nil
      end
    end)
  end

  defp version(path) do
    case System.cmd(path, ["version"], stderr_to_stdout: true) do
      {out, 0} -> {:ok, String.trim(out)}
      _ -> :error
    end
  rescue
    _ -> :error
  end

  @doc """
  Writes (once) and returns the directory of tool wrappers for `platform`:
  `cc`, `c++` (`zig cc`/`zig c++ -target ...`), `ar`, `ranlib`. (No
  `strip`: zig's objcopy cannot strip shared libraries and the host's
  strip may not know the architecture, so builds link with `-s`.)
  """
  @spec wrappers!(t(), Platform.t()) :: Path.t()
  def wrappers!(%__MODULE__{} = zig, %Platform{} = platform) do
    target = Platform.zig_target(platform)
    dir = Cache.path("toolchain", "zig-#{zig.version}-#{Cache.short_hash(zig.path)}/#{target}")
    bin = Path.join(dir, "bin")
    File.mkdir_p!(bin)

    scripts = %{
      "cc" => ~s(exec "#{zig.path}" cc -target #{target} "$@"),
      "c++" => ~s(exec "#{zig.path}" c++ -target #{target} "$@"),
      "ar" => ~s(exec "#{zig.path}" ar "$@"),
      "ranlib" => ~s(exec "#{zig.path}" ranlib "$@")
    }

    for {name, line} <- scripts do
      path = Path.join(bin, name)
      content = "#!/bin/sh\n" <> line <> "\n"

      unless File.read(path) == {:ok, content} do
        tmp = path <> ".tmp#{:os.getpid()}"
        File.write!(tmp, content)
        File.chmod!(tmp, 0o755)
        File.rename!(tmp, path)
      end
    end

    bin
  end
end
