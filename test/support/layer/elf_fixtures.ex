defmodule LambdaRuntime.TestSupport.ElfFixtures do
  @moduledoc """
  Small real ELF files for the layer check's tests, compiled at test time:
  x86_64 ones with the host's `gcc`, aarch64 ones with zig (`zig` on PATH,
  else `python -m ziglang` from the project's `.venv`, which
  scripts/setup.sh installs). Stub libraries get their symbol versions
  from a linker version script, so a program linked against them needs
  exactly the version nodes a test asks for (e.g. `OPENSSL_3.2.0` from
  `libcrypto.so.3`).
  """

  @root LambdaRuntime.TestSupport.Paths.root()

  @doc "Compiles C `source` into `out` with gcc (x86_64 host). Extra `args` go last."
  def gcc!(dir, name, source, args \\ []) do
    cc!(
      System.find_executable("gcc") || raise("gcc is not installed"),
      [],
      dir,
      name,
      source,
      args
    )
  end

  @doc "Compiles C `source` with `zig cc -target TARGET` (e.g. aarch64-linux-gnu.2.31)."
  def zig!(dir, name, source, target, args \\ []) do
    {exe, pre} = zig()
    cc!(exe, pre ++ ["cc", "-target", target], dir, name, source, args)
  end

  @doc """
  A stub shared library `soname` in `dir` (not in the checked tree) whose
  symbols carry the given version nodes: `[{"OPENSSL_3.0.0", ["f30"]}, ...]`,
  each node inheriting from the one before.
  """
  def stub_lib!(dir, soname, nodes, compiler \\ :gcc) do
    source =
      Enum.map_join(nodes, "\n", fn {_, syms} ->
        Enum.map_join(syms, "\n", &"int #{&1}(void) { return 1; }")
      end)

    script =
      nodes
      |> Enum.with_index()
      |> Enum.map_join("\n", fn {{node, syms}, i} ->
        parent = if i > 0, do: " " <> elem(Enum.at(nodes, i - 1), 0), else: ""

        "#{node} { global: #{Enum.map_join(syms, " ", &"#{&1};")} #{if i == 0, do: "local: *;", else: ""} }#{parent};"
      end)

    map = Path.join(dir, soname <> ".map")
    File.write!(map, script <> "\n")
    args = ["-shared", "-fPIC", "-Wl,-soname,#{soname}", "-Wl,--version-script=#{map}"]

    case compiler do
      :gcc -> gcc!(dir, soname, source, args)
      {:zig, target} -> zig!(dir, soname, source, target, args)
    end
  end

  @doc "A program that calls `symbols` from the library at `lib_path`."
  def program_using!(dir, name, lib_path, symbols, compiler \\ :gcc) do
    decls = Enum.map_join(symbols, "\n", &"int #{&1}(void);")
    calls = Enum.map_join(symbols, " + ", &"#{&1}()")
    source = "#{decls}\nint main(void) { return #{calls}; }\n"
    args = [lib_path]

    case compiler do
      :gcc -> gcc!(dir, name, source, args)
      {:zig, target} -> zig!(dir, name, source, target, args)
    end
  end

  @doc "zig as `{executable, leading args}`: `zig` on PATH or `python -m ziglang`."
  def zig do
    python = Path.join(@root, ".venv/bin/python")

    cond do
      exe = System.find_executable("zig") ->
        {exe, []}

      File.exists?(python) and match?({_, 0}, System.cmd(python, ["-m", "ziglang", "version"])) ->
        {python, ["-m", "ziglang"]}

      true ->
        raise "zig not found: install it (pip install ziglang into .venv, see scripts/setup.sh)"
    end
  end

  defp cc!(exe, pre, dir, name, source, args) do
    src = Path.join(dir, name <> ".c")
    out = Path.join(dir, name)
    File.write!(src, source)

    case System.cmd(exe, pre ++ ["-O1", "-o", out, src] ++ args, stderr_to_stdout: true) do
      {_, 0} -> out
      {output, status} -> raise "#{Path.basename(exe)} failed (#{status}) for #{name}:\n#{output}"
    end
  end
end
