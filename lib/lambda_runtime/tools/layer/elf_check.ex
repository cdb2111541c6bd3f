defmodule LambdaRuntime.Tools.Layer.ElfCheck do
  @moduledoc """
  The layer's compatibility check: reads every ELF file under a directory
  (with `LambdaRuntime.Tools.Layer.Elf`, no binutils) and compares what each needs
  with what the target image provides (`LambdaRuntime.Tools.Layer.Target`):

    * the CPU: every file must be built for the target's architecture
      (an x86_64 file in an arm64 layer is a problem, even when all are);
    * the libraries: each needed soname must be provided by the target,
      declared (`Target.with_system_libs/2`) or bundled in `shlib/`;
    * the symbol versions needed from the target's libraries: each node
      (`GLIBC_`, `GCC_`, `GLIBCXX_`, `CXXABI_`, `OPENSSL_`, `ZLIB_`) must be
      at most the table's, and of a family the table knows. Nodes needed from
      bundled libraries are not compared: the bundled file is checked itself.

      ElfCheck.run(stage, target: Target.al2023(:arm64) |> Target.with_glibc({2, 31}))
      #=> {:ok, report} | {:error, problems, report}

  A problem is `%{file: path, needs: what, problem: why}`; `format/1` renders
  a list of them as a table. The report holds `files` (ELF files read),
  `machine` and `architecture` (the target's), `max_glibc` (`{2, 29}`, or
  nil) and `needs`: the newest version needed per family from the target
  (`%{"GLIBC" => "2.29", "GCC" => "3.0"}`), which the layer manifest records.
  """

  alias LambdaRuntime.Tools.Layer.{Elf, Target}

  @type version :: {non_neg_integer(), non_neg_integer()}
  @type problem :: %{file: String.t(), needs: String.t(), problem: String.t()}

  @doc """
  Checks the ELF files under `dir`. Options:

    * `:target` - a `LambdaRuntime.Tools.Layer.Target` (required)
    * `:shlib` - the bundled library directory relative to `dir`
      (default `"shlib"`)

  For builders written before `Target`: without `:target`, `:glibc`
  (`{2, 34}`) and `:system_libs` describe `provided.al2023` for this
  machine's architecture.
  """
  @spec run(Path.t(), keyword()) :: {:ok, map()} | {:error, [problem()], map()}
  def run(dir, opts) do
    target = target(opts)
    shlib = Keyword.get(opts, :shlib, "shlib")
    bundled = bundled(Path.join(dir, shlib))
    elfs = read_elfs(dir)

    problems =
      Enum.flat_map(elfs, fn elf ->
        machine_problems(elf, target) ++
          lib_problems(elf, target, bundled, shlib) ++ version_problems(elf, target, bundled)
      end) ++ bundled_glibc_problems(target, bundled, shlib)

    needs = needs(elfs, target, bundled)

    report = %{
      files: length(elfs),
      machine: target.machine,
      architecture: Target.arch_name(target.arch),
      target: target,
      max_glibc: max_glibc_of(needs),
      needs: Map.new(needs, fn {family, v} -> {family, Target.version_string(v)} end)
    }

    if problems == [], do: {:ok, report}, else: {:error, problems, report}
  end

  defp target(opts) do
    case Keyword.fetch(opts, :target) do
      {:ok, %Target{} = target} ->
        target

      :error ->
        Target.al2023(Target.host_arch())
        |> Target.with_glibc(Keyword.fetch!(opts, :glibc))
        |> Target.with_system_libs(Keyword.get(opts, :system_libs, []))
    end
  end

  defp bundled(shlib) do
    case File.ls(shlib) do
      {:ok, names} -> MapSet.new(names)
      {:error, _} -> MapSet.new()
    end
  end

  defp read_elfs(dir) do
    for path <- Path.wildcard(Path.join(dir, "**"), match_dot: true),
        File.regular?(path),
        Elf.elf?(path) do
      case Elf.read(path) do
        {:ok, elf} -> %{elf | path: Path.relative_to(path, dir)}
        {:error, reason} -> %Elf{path: Path.relative_to(path, dir), machine: {:error, reason}}
      end
    end
  end

  @doc "The highest `GLIBC_x.y` version `elf` needs, as `{x, y}` (nil if none)."
  @spec max_glibc(Elf.t()) :: version() | nil
  def max_glibc(%Elf{version_needs: needs}) do
    needs
    |> Enum.flat_map(fn {_lib, names} -> names end)
    |> Enum.flat_map(fn name ->
      case Target.split_node(name) do
        {"GLIBC", [major, minor | _]} -> [{major, minor}]
        {"GLIBC", [major]} -> [{major, 0}]
        _ -> []
      end
    end)
    |> Enum.max(fn -> nil end)
  end

  @doc "Parses `\"2.34\"` (or `\"GLIBC_2.34\"`) into `{2, 34}`."
  @spec parse_version(String.t()) :: {:ok, version()} | :error
  def parse_version(text) do
    case Regex.run(~r/^(?:GLIBC_)?(\d+)\.(\d+)(?:\.\d+)?$/, text) do
      [_, major, minor] -> {:ok, {String.to_integer(major), String.to_integer(minor)}}
      nil -> :error
    end
  end

  defp machine_problems(%Elf{machine: {:error, reason}} = elf, _target),
    do: [%{file: elf.path, needs: "-", problem: reason}]

  defp machine_problems(%Elf{machine: machine}, %Target{machine: machine}), do: []

  defp machine_problems(%Elf{machine: machine} = elf, target) do
    [
      %{
        file: elf.path,
        needs: "machine #{machine_name(machine)}",
        problem:
          "built for #{machine_name(machine)}, but the layer is for " <>
            "#{Target.arch_name(target.arch)} (#{target.machine})"
      }
    ]
  end

  defp machine_name({:unknown, n}), do: "ELF machine #{n}"
  defp machine_name(machine), do: Atom.to_string(machine)

  defp lib_problems(%Elf{needed: needed} = elf, target, bundled, shlib) do
    for lib <- needed,
        not MapSet.member?(bundled, lib),
        not Target.provides?(target, lib) do
      %{
        file: elf.path,
        needs: lib,
        problem: "not bundled in #{shlib}/ and not provided by #{target.name}"
      }
    end
  end

  # One row per file and family: the newest node past the limit, or the
  # first node the table cannot judge.
  defp version_problems(%Elf{version_needs: needs} = elf, target, bundled) do
    rows =
      for {lib, names} <- needs,
          checked_lib?(target, bundled, lib),
          name <- names,
          row = version_row(name, lib, target),
          row != nil,
          do: row

    rows
    |> Enum.group_by(fn {key, _version, _row} -> key end)
    |> Enum.sort()
    |> Enum.map(fn {_key, group} ->
      {_, _, row} = Enum.max_by(group, fn {_, version, _} -> version end)
      Map.put(row, :file, elf.path)
    end)
  end

  # The version nodes of a library the target provides (not bundled, not
  # merely declared) are judged; a declared library's unknown families are
  # trusted, like the library itself.
  defp checked_lib?(target, bundled, lib) do
    not MapSet.member?(bundled, lib) and Target.provides?(target, lib)
  end

  defp version_row(name, lib, target) do
    declared_only? = lib in target.system_libs and not table_lib?(target, lib)

    case Target.split_node(name) do
      :error ->
        if declared_only?,
          do: nil,
          else:
            {{:unknown, name}, [],
             %{needs: "#{name} (#{lib})", problem: "not a version #{target.name} provides"}}

      {family, version} ->
        case Target.limit(target, family) do
          nil when declared_only? ->
            nil

          nil ->
            {{:unknown, family}, version,
             %{
               needs: "#{name} (#{lib})",
               problem: "version family #{family}_ is not in #{target.name}'s table"
             }}

          limit ->
            if Target.newer?(version, limit) do
              {{:newer, family}, version,
               %{
                 needs: "#{name} (#{lib})",
                 problem:
                   "newer than #{family}_#{Target.version_string(limit)}#{why(target, family)}"
               }}
            end
        end
    end
  end

  defp why(target, family) do
    if Map.get(target.baseline, family) == Map.get(target.versions, family),
      do: ", the newest #{target.name} provides",
      else: ", the limit this build targets"
  end

  defp table_lib?(target, lib), do: lib in target.glibc_libs or lib in target.libraries

  defp bundled_glibc_problems(target, bundled, shlib) do
    for lib <- Enum.sort(bundled), Target.glibc_lib?(target, lib) do
      %{
        file: "#{shlib}/#{lib}",
        needs: "-",
        problem: "glibc's own libraries cannot be bundled: the image's must be used"
      }
    end
  end

  defp needs(elfs, target, bundled) do
    for %Elf{version_needs: needs} <- elfs,
        {lib, names} <- needs,
        checked_lib?(target, bundled, lib),
        name <- names,
        {family, version} <- [Target.split_node(name)],
        reduce: %{} do
      acc ->
        Map.update(acc, family, version, fn old ->
          if Target.newer?(version, old), do: version, else: old
        end)
    end
  end

  defp max_glibc_of(%{"GLIBC" => [major, minor | _]}), do: {major, minor}
  defp max_glibc_of(%{"GLIBC" => [major]}), do: {major, 0}
  defp max_glibc_of(_), do: nil

  @doc "Renders problems as a fixed-width table."
  @spec format([problem()]) :: String.t()
  def format(problems) do
    rows = [%{file: "FILE", needs: "NEEDS", problem: "PROBLEM"} | problems]
    w1 = rows |> Enum.map(&String.length(&1.file)) |> Enum.max()
    w2 = rows |> Enum.map(&String.length(&1.needs)) |> Enum.max()

    Enum.map_join(rows, "\n", fn r ->
      "  " <>
        String.pad_trailing(r.file, w1) <>
        "  " <>
        String.pad_trailing(r.needs, w2) <>
        "  " <> r.problem
    end)
  end

  @doc "`{2, 34}` as `\"2.34\"`."
  def version_string({major, minor}), do: "#{major}.#{minor}"
  def version_string(nil), do: "none"
end
