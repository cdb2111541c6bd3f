defmodule LambdaRuntime.Tools.TaskConventionsTest do
  # Every lambda.* Mix task reads the same way: a @shortdoc, a @moduledoc
  # with example calls and every option it accepts, its options parsed by
  # the shared LambdaRuntime.Tools.CLI (OptionParser in strict mode), the
  # `lambda:` settings read through LambdaRuntime.Tools.Settings, and the
  # work left to a library module.
  use ExUnit.Case, async: true

  @tasks Path.wildcard(LambdaRuntime.TestSupport.Paths.root("lib/mix/tasks/lambda.*.ex"))

  # The module a task file defines and its @switches keyword list.
  defp read(path) do
    ast = path |> File.read!() |> Code.string_to_quoted!()
    {_, found} = Macro.prewalk(ast, %{}, &collect/2)
    found
  end

  defp collect({:defmodule, _, [{:__aliases__, _, parts} | _]} = node, acc),
    do: {node, Map.put_new(acc, :module, Module.concat(parts))}

  defp collect({:@, _, [{:switches, _, [switches]}]} = node, acc),
    do: {node, Map.put(acc, :switches, switches)}

  defp collect(node, acc), do: {node, acc}

  test "there are tasks to check" do
    assert length(@tasks) >= 9
  end

  for path <- @tasks do
    @path path

    test "#{Path.basename(path)}: @shortdoc, examples and every option documented" do
      %{module: module} = found = read(@path)
      task = Mix.Task.task_name(module)
      assert is_binary(Mix.Task.shortdoc(module)), "#{task} has no @shortdoc"
      doc = Mix.Task.moduledoc(module)
      assert is_binary(doc), "#{task} has no @moduledoc"

      assert doc =~ ~r/^\s{4,}(\w+=\S+\s+)*mix #{Regex.escape(task)}\b/m,
             "#{task}'s @moduledoc has no example call"

      assert doc =~ "## Options", "#{task}'s @moduledoc has no Options section"

      for {switch, type} <- Map.get(found, :switches, []) do
        name = String.replace(Atom.to_string(switch), "_", "-")
        # A boolean may be documented by its negation (`--no-input`).
        documented = doc =~ "--" <> name or (type == :boolean and doc =~ "--no-" <> name)
        assert documented, "#{task}'s @moduledoc does not document --#{name}"
      end
    end

    test "#{Path.basename(path)}: parses with Tools.CLI, reads lambda: only through it" do
      source = File.read!(@path)
      assert source =~ "CLI.parse!(", "parse the options with LambdaRuntime.Tools.CLI.parse!/3"
      refute source =~ "OptionParser.parse", "OptionParser is called by Tools.CLI only"
      refute source =~ ~r/\[:lambda\]|:lambda\)/, "read the lambda: settings with CLI.settings!/2"
    end
  end
end
