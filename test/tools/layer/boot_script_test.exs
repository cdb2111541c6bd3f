defmodule LambdaRuntime.Tools.Layer.BootScriptTest do
  # The development checkout's boot script (the :lambda_boot compiler's
  # file); the layer's own is checked by sandbox_test.exs.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.BootScript

  @tag :tmp_dir
  test "write_dev!/1: OTP's no_dot_erlang plus batches of the OTP and Elixir init modules",
       %{tmp_dir: dir} do
    out = Path.join(dir, BootScript.dev_file_name())
    count = BootScript.write_dev!(out)

    {:script, _name, commands} = out |> File.read!() |> :erlang.binary_to_term()
    {:script, _, base} = :erlang.binary_to_term(File.read!(no_dot_erlang()))

    [first | batches] = for {:primLoad, mods} <- commands, do: mods
    [base_first | _] = for {:primLoad, mods} <- base, do: mods
    assert first == base_first

    preloaded = batches |> Enum.take_while(&(length(&1) <= 10)) |> List.flatten()
    assert length(preloaded) == count and count > 30

    assert Enum.all?(
             [Elixir.Kernel, Elixir.Logger.App, :elixir, :unicode_util],
             &(&1 in preloaded)
           )

    # Never the runtime's own modules (their place is the build directory,
    # which may move) and never a protocol (consolidated ones must win).
    refute Enum.any?(preloaded, &String.starts_with?(Atom.to_string(&1), "Elixir.LambdaRuntime"))
    refute Enumerable in preloaded or String.Chars in preloaded

    # It names no absolute path (OTP's under $ROOT, Elixir's under
    # $ELIXIR_LIB, which bootstrap.sh passes), and every directory exists here.
    {:path, path} = Enum.find(commands, &match?({:path, _}, &1))
    root = List.to_string(:code.root_dir())
    elixir_lib = Path.expand(Path.join(List.to_string(:code.lib_dir(:elixir)), ".."))
    assert ~c"$ELIXIR_LIB/elixir/ebin" in path and ~c"$ELIXIR_LIB/logger/ebin" in path

    for dir <- path do
      dir = List.to_string(dir)
      assert String.starts_with?(dir, ["$ROOT/", "$ELIXIR_LIB/"]), dir

      local =
        dir
        |> String.replace_prefix("$ROOT", root)
        |> String.replace_prefix("$ELIXIR_LIB", elixir_lib)

      assert File.dir?(local), dir
    end
  end

  test "the file name carries the ERTS version" do
    assert BootScript.dev_file_name() == "lambda-erts-#{:erlang.system_info(:version)}.boot"
  end

  defp no_dot_erlang, do: Path.join(List.to_string(:code.root_dir()), "bin/no_dot_erlang.boot")
end
