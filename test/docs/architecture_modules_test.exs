defmodule LambdaRuntime.Docs.ArchitectureModulesTest do
  # ARCHITECTURE.md's module tables against the tree: every module of lib/
  # and mix/ and every file of the NIF crate has its row, no row names
  # something that does not exist, and no module has two rows.
  #
  # A row names modules in its first column: `LambdaRuntime.X`, or short
  # (`Durable.X`, `Tools.X`: below `LambdaRuntime`), `X.*` for a whole
  # namespace, `mix lambda.x` for a task, and files by path; in a group
  # after a name, `A` (+ `B`), B is A's child or sibling. A module is also
  # listed by a row of its parent, or of a sibling, that names it in
  # backquotes (`Tools.Emulator`'s `Listener`), and a module defined in its
  # parent's file (a struct of an event, say) goes with its parent. A
  # namespace's row (`X.*`) lists its modules without counting as their
  # own row.
  use ExUnit.Case, async: true

  @doc_path "ARCHITECTURE.md"
  @crate_src "native/lambda_runtime_nif/src"

  setup_all do
    text = File.read!(@doc_path)
    [_, modules] = String.split(text, "\n## Modules\n", parts: 2)
    [modules, _] = String.split(modules, "\n## Decisions", parts: 2)
    [elixir, rust] = String.split(modules, "\n### Rust crate", parts: 2)
    %{elixir: rows(elixir), rust: rows(rust), modules: modules()}
  end

  test "every module of lib/ and mix/ is listed", %{elixir: rows, modules: modules} do
    unlisted = Enum.reject(modules, fn {module, _source} -> listed?(module, rows, modules) end)

    assert unlisted == [],
           "modules missing from ARCHITECTURE.md's tables: " <>
             Enum.map_join(unlisted, ", ", &inspect(elem(&1, 0)))
  end

  test "every name in a first column exists", %{elixir: rows, modules: modules} do
    missing =
      for row <- rows, {name, group} <- row.names, not exists?(name, group, modules), do: name

    assert missing == [], "listed in ARCHITECTURE.md but not in the tree: #{inspect(missing)}"
  end

  test "no module has two rows", %{elixir: rows, modules: modules} do
    named =
      for row <- rows,
          {name, group} <- row.names,
          not String.ends_with?(name, ".*"),
          module <- resolve(name, group, modules),
          do: module

    twice = named |> Enum.frequencies() |> Enum.filter(fn {_, n} -> n > 1 end)
    assert twice == [], "modules with more than one row: #{inspect(twice)}"
  end

  test "every file of the NIF crate has one row, and every row a file", %{rust: rows} do
    files =
      Path.wildcard(Path.join(@crate_src, "**/*.rs"))
      |> Enum.map(&Path.relative_to(&1, @crate_src))
      |> Enum.sort()

    listed = for row <- rows, {name, nil} <- row.names, do: name

    assert Enum.sort(listed) -- files == [],
           "rows without a file: #{inspect(Enum.sort(listed) -- files)}"

    assert files -- listed == [], "files without a row: #{inspect(files -- listed)}"
    assert listed -- Enum.uniq(listed) == [], "files with two rows"
  end

  test "the check can fail: an unlisted module and a stale name are found", %{modules: modules} do
    rows = rows("| `LambdaRuntime.Config` (+ `Nothing`) | x |\n| `LambdaRuntime.Gone` | y |")
    refute listed?(LambdaRuntime.Runtime, rows, modules)
    assert listed?(LambdaRuntime.Config, rows, modules)

    assert for(row <- rows, {n, g} <- row.names, not exists?(n, g, modules), do: n) ==
             ["Nothing", "LambdaRuntime.Gone"]
  end

  # Table rows: the first column's names (each with the module whose
  # "(+ ...)" group it is in, or nil) and every backquoted word of the row.
  defp rows(text) do
    for line <- String.split(text, "\n"),
        String.starts_with?(line, "| "),
        not String.starts_with?(line, "| Module") and not String.starts_with?(line, "| File"),
        [first | _] = String.split(line, " | ", parts: 2) do
      %{names: names(first), words: Regex.scan(~r/`([^`]+)`/, line, capture: :all_but_first)}
    end
    |> Enum.map(fn row -> %{row | words: List.flatten(row.words)} end)
  end

  defp names(cell) do
    # "`A` (+ `B`, `C`), `D`": B and C belong to A.
    Regex.scan(~r/\(\+[^)]*\)|`[^`]+`/, cell)
    |> List.flatten()
    |> Enum.reduce({[], nil}, fn
      "(+" <> _ = group, {acc, parent} ->
        words = Regex.scan(~r/`([^`]+)`/, group, capture: :all_but_first) |> List.flatten()
        {Enum.reverse(Enum.map(words, &{&1, parent})) ++ acc, parent}

      "`" <> _ = quoted, {acc, _} ->
        name = String.trim(quoted, "`")
        {[{name, nil} | acc], name}
    end)
    |> elem(0)
    |> Enum.reverse()
  end

  # The modules of lib/ (compiled into the application; protocol
  # implementations excluded) and of mix/ (required by mix.exs), with their
  # source files.
  defp modules do
    lib = Path.expand("lib") <> "/"

    compiled =
      for module <- Application.spec(:lambda_runtime, :modules),
          Code.ensure_loaded?(module),
          not function_exported?(module, :__impl__, 1),
          source = to_string(module.module_info(:compile)[:source]),
          String.starts_with?(source, lib),
          do: {module, source}

    required =
      for file <- Path.wildcard("mix/*.ex"),
          [_, name] <- Regex.scan(~r/^defmodule ([\w.]+) do/m, File.read!(file)),
          do: {Module.concat([name]), Path.expand(file)}

    Enum.sort(compiled ++ required)
  end

  defp resolve("mix " <> task, nil, modules) do
    module = Mix.Task.get(task)
    if module && List.keymember?(modules, module, 0), do: [module], else: []
  end

  defp resolve(name, parent, modules) do
    bases =
      if parent,
        do:
          for(
            p <- candidates(parent) ++ siblings(parent),
            do: p <> "." <> String.trim_leading(name, ".")
          ),
        else: candidates(name)

    case String.split(name, ".*") do
      [prefix, ""] when parent == nil ->
        for base <- candidates(prefix),
            {module, _} <- modules,
            String.starts_with?(inspect(module), base <> "."),
            do: module

      _ ->
        for base <- bases, {module, _} <- modules, inspect(module) == base, do: module
    end
  end

  defp candidates(name), do: [name, "LambdaRuntime." <> name]

  # The namespace `name` is in, below LambdaRuntime.
  defp siblings(name) do
    for c <- candidates(name),
        [_, _ | _] = parts <- [String.split(c, ".")],
        parts != ["LambdaRuntime", List.last(parts)],
        do: parts |> Enum.drop(-1) |> Enum.join(".")
  end

  defp exists?(name, nil, modules) do
    cond do
      String.contains?(name, "/") or Regex.match?(~r/\.(sh|exs?|rs)$/, name) ->
        File.exists?(name) or File.exists?(Path.join(@crate_src, name))

      true ->
        resolve(name, nil, modules) != []
    end
  end

  defp exists?(name, parent, modules) do
    if Regex.match?(~r/\.(sh|exs?|rs)$/, name),
      do: File.exists?(Path.join(Path.dirname(parent), name)),
      else: resolve(name, parent, modules) != []
  end

  defp listed?(module, rows, modules) do
    Enum.any?(rows, fn row ->
      named = for {name, group} <- row.names, m <- resolve(name, group, modules), do: m
      module in named or Enum.any?(named, &mentioned?(module, &1, row.words))
    end) or (nested?(module, modules) and listed?(parent(module), rows, modules))
  end

  # `module` is a child or sibling of `named` and its name below their
  # common namespace is a backquoted word of the row.
  defp mentioned?(module, named, words) do
    parents = [named | if(parent(named) in [nil, LambdaRuntime], do: [], else: [parent(named)])]

    Enum.any?(parents, fn p ->
      rest = String.trim_leading(inspect(module), inspect(p) <> ".")
      rest != inspect(module) and rest in words
    end)
  end

  # `module` is defined in its parent's file.
  defp nested?(module, modules) do
    case {List.keyfind(modules, module, 0), List.keyfind(modules, parent(module), 0)} do
      {{_, source}, {_, source}} -> true
      _ -> false
    end
  end

  defp parent(module) do
    case Module.split(module) do
      [_] -> nil
      parts -> parts |> Enum.drop(-1) |> Module.concat()
    end
  end
end
