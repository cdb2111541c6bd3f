defmodule LambdaRuntime.Layer.ElfCheck do
  @moduledoc """
  The layer's compatibility check: reads every ELF file under a directory
  (with `LambdaRuntime.Layer.Elf`, no binutils) and finds, for each,

    * glibc symbol versions newer than the target's glibc (2.34 for
      `provided.al2023`, 2.26 for `provided.al2`);
    * needed libraries that are neither glibc's, nor bundled in `shlib/`,
      nor declared as provided by the target;
    * a CPU architecture other than that of the rest of the layer.

  `run/2` returns `{:ok, report}` or `{:error, problems, report}`;
  `format/1` renders the problems as a table.
  """

  alias LambdaRuntime.Layer.{Elf, Libs}

  @type version :: {non_neg_integer(), non_neg_integer()}

  @doc """
  Checks the ELF files under `dir`. Options: `:glibc` (`{2, 34}`),
  `:system_libs` (sonames the target provides), `:shlib` (the bundled
  library directory relative to `dir`, default `"shlib"`).
  """
  @spec run(Path.t(), keyword()) :: {:ok, map()} | {:error, [map()], map()}
  def run(dir, opts) do
    target = Keyword.fetch!(opts, :glibc)
    system_libs = Keyword.get(opts, :system_libs, [])
    shlib = Path.join(dir, Keyword.get(opts, :shlib, "shlib"))

    bundled =
      shlib
      |> File.ls()
      |> then(fn
        {:ok, l} -> l
        _ -> []
      end)
      |> MapSet.new()

    elfs =
      for path <- Path.wildcard(Path.join(dir, "**"), match_dot: true),
          File.regular?(path),
          Elf.elf?(path) do
        case Elf.read(path) do
          {:ok, elf} -> %{elf | path: Path.relative_to(path, dir)}
          {:error, reason} -> %Elf{path: Path.relative_to(path, dir), machine: {:error, reason}}
        end
      end

    machine = majority_machine(elfs)

    problems =
      Enum.flat_map(elfs, fn elf ->
        glibc_problems(elf, target) ++
          lib_problems(elf, bundled, system_libs) ++ machine_problems(elf, machine)
      end)

    report = %{
      files: length(elfs),
      machine: machine,
      max_glibc: elfs |> Enum.map(&max_glibc/1) |> Enum.max(fn -> nil end),
      target: target
    }

    if problems == [], do: {:ok, report}, else: {:error, problems, report}
  end

  @doc "The highest `GLIBC_x.y` version `elf` needs, as `{x, y}` (nil if none)."
  @spec max_glibc(Elf.t()) :: version() | nil
  def max_glibc(%Elf{version_needs: needs}) do
    needs
    |> Enum.filter(fn {lib, _} -> Libs.glibc?(lib) end)
    |> Enum.flat_map(fn {_, versions} -> Enum.flat_map(versions, &glibc_version/1) end)
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

  defp glibc_version(name) do
    case parse_version(name) do
      {:ok, v} -> if String.starts_with?(name, "GLIBC_"), do: [v], else: []
      :error -> []
    end
  end

  defp glibc_problems(%Elf{version_needs: needs} = elf, target) do
    # One row per file: its newest glibc version, if that is too new.
    for {lib, versions} <- needs,
        Libs.glibc?(lib),
        name <- versions,
        [v] <- [glibc_version(name)],
        v > target do
      {v, %{file: elf.path, needs: "#{name} (#{lib})", problem: "newer than the target's glibc"}}
    end
    |> Enum.sort()
    |> Enum.take(-1)
    |> Enum.map(&elem(&1, 1))
  end

  defp lib_problems(%Elf{needed: needed} = elf, bundled, system_libs) do
    for lib <- needed,
        not Libs.glibc?(lib),
        not MapSet.member?(bundled, lib),
        lib not in system_libs do
      %{file: elf.path, needs: lib, problem: "not bundled in shlib/ and not part of glibc"}
    end
  end

  defp machine_problems(%Elf{machine: {:error, reason}} = elf, _),
    do: [%{file: elf.path, needs: "-", problem: reason}]

  defp machine_problems(%Elf{machine: m} = elf, expected) when m != expected,
    do: [%{file: elf.path, needs: "#{inspect(m)}", problem: "not built for #{expected}"}]

  defp machine_problems(_, _), do: []

  defp majority_machine([]), do: nil

  defp majority_machine(elfs) do
    elfs
    |> Enum.map(& &1.machine)
    |> Enum.reject(&match?({:error, _}, &1))
    |> Enum.frequencies()
    |> Enum.max_by(fn {_, n} -> n end, fn -> {nil, 0} end)
    |> elem(0)
  end

  @doc "Renders problems as a fixed-width table."
  @spec format([map()]) :: String.t()
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
