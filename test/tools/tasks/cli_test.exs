defmodule LambdaRuntime.Tools.CLITest do
  # The argument parsing, settings and error handling every lambda.* task
  # shares: each mistake is named, with where to look next.
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.CLI

  @switches [memory_size: :integer, timeout: :float, env: :keep, dry_run: :boolean]

  defp parse!(args, spec \\ []),
    do: CLI.parse!("lambda.thing", args, Keyword.put_new(spec, :switches, @switches))

  defp message(fun), do: assert_raise(Mix.Error, fun).message

  test "options and arguments, typed and repeated" do
    assert {opts, []} = parse!(~w(--memory-size 1024 --env A=1 --env B=2 --dry-run --timeout 2.5))
    assert opts[:memory_size] == 1024 and opts[:timeout] == 2.5 and opts[:dry_run] == true
    assert Keyword.get_values(opts, :env) == ["A=1", "B=2"]

    assert {[], ["sqs"]} = parse!(["sqs"], args: 0..1)
    assert {[], []} = parse!([], args: 0..1)
  end

  test "an unknown option, a missing value and a value of the wrong type are named" do
    assert message(fn -> parse!(["--bogus"]) end) ==
             "mix lambda.thing: unknown option --bogus; run `mix help lambda.thing` for the options"

    assert message(fn -> parse!(["--memory-size"]) end) =~
             "mix lambda.thing: --memory-size needs an integer; run `mix help lambda.thing`"

    assert message(fn -> parse!(["--memory-size", "lots"]) end) =~
             ~s(mix lambda.thing: --memory-size takes an integer, got "lots")

    assert message(fn -> parse!(["--timeout", "soon"]) end) =~
             ~s(--timeout takes a number, got "soon")

    assert message(fn -> parse!(["--dry-run=yes"]) end) =~ ~s(--dry-run takes no value, got "yes")
  end

  test "a task without options says so" do
    assert message(fn -> parse!(["--all"], switches: []) end) =~
             "mix lambda.thing takes no options, got --all"
  end

  test "too many or too few arguments, with what the task takes and a hint" do
    assert message(fn -> parse!(["stray"], hint: "use --output PATH") end) ==
             ~s(mix lambda.thing takes no arguments, got "stray"; use --output PATH)

    assert message(fn -> parse!(["a", "b"], args: 0..1, args_text: "one name") end) ==
             ~s(mix lambda.thing takes one name, got "a" "b")

    assert message(fn -> parse!([], args: 1, args_text: "the path") end) ==
             "mix lambda.thing takes the path, got none"
  end

  test "ok!/2 passes values and raises errors after the task's name" do
    assert CLI.ok!("lambda.thing", :ok) == :ok
    assert CLI.ok!("lambda.thing", {:ok, 7}) == 7

    assert message(fn -> CLI.ok!("lambda.thing", {:error, "it broke"}) end) ==
             "mix lambda.thing: it broke"

    assert message(fn -> CLI.ok!("lambda.thing", {:error, %ArgumentError{message: "bad"}}) end) ==
             "mix lambda.thing: bad"
  end

  @tag :tmp_dir
  test "settings!/2 reads the project's lambda: key under the flags, validated", %{tmp_dir: dir} do
    File.write!(Path.join(dir, "mix.exs"), """
    defmodule CliFixture.MixProject do
      use Mix.Project
      def project, do: [app: :cli_fixture, version: "0.1.0", lambda: [handler: "F.h", timeout: 10]]
    end
    """)

    Mix.Project.in_project(:cli_fixture, dir, fn _ ->
      settings = CLI.settings!("lambda.thing", memory_size: 1024)
      assert settings.handler == "F.h" and settings.timeout == 10
      assert settings.memory_size == 1024 and settings.function_name == "cli_fixture"

      assert message(fn -> CLI.settings!("lambda.thing", memory_size: 64) end) =~
               "mix lambda.thing: memory_size must be an integer number of MB from 128 to 10240"
    end)
  end
end
