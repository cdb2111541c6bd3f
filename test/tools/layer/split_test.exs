defmodule LambdaRuntime.Tools.Layer.SplitTest do
  # Runtime and tooling, kept apart: what runs inside Lambda is in
  # lib/lambda_runtime/ (the layer ships it), what builds, deploys, emulates
  # or tests is in lib/lambda_runtime/tools/ (LambdaRuntime.Tools.*) and
  # lib/mix/, plus the three modules users call from their ExUnit tests by
  # their public names. These tests read the folders, the compiled beams
  # and the built layer, so a module in the wrong folder, a runtime module
  # that calls tooling (it would be missing inside Lambda) or a layer that
  # ships tooling fails here.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.{Builder, Target}
  alias LambdaRuntime.TestSupport.{Build, PortableLayers}

  @root LambdaRuntime.TestSupport.Paths.root()
  @tooling_dirs ["lib/lambda_runtime/tools/", "lib/lambda_runtime/tools.ex", "lib/mix/"]
  @test_api_files ~w(lib/lambda_runtime/test.ex lib/lambda_runtime/durable/test.ex
                     lib/lambda_runtime/samples.ex)

  # lambda_runtime's modules compiled from lib/ (the test build also holds
  # test/support's), with their source relative to the checkout.
  defp lib_modules do
    ebin = Path.join(:code.lib_dir(:lambda_runtime), "ebin")

    for module <- Application.spec(:lambda_runtime, :modules),
        beam = Path.join(ebin, "#{module}.beam"),
        source = source(beam),
        String.starts_with?(source, "lib/"),
        do: %{module: module, beam: beam, source: source}
  end

  defp source(beam) do
    {:ok, {_, [compile_info: info]}} = :beam_lib.chunks(String.to_charlist(beam), [:compile_info])
    info |> Keyword.fetch!(:source) |> to_string() |> Path.relative_to(@root)
  end

  defp tooling_source?(source),
    do: String.starts_with?(source, @tooling_dirs) or source in @test_api_files

  defp runtime_modules,
    do: for(m <- lib_modules(), not tooling_source?(m.source), do: m.module) |> Enum.sort()

  test "the layer's rule and the folders agree on every module" do
    modules = lib_modules()
    assert length(modules) > 150

    for %{module: module, source: source} <- modules do
      assert Builder.tooling?(module) == tooling_source?(source),
             "#{inspect(module)} (#{source}): " <>
               if(Builder.tooling?(module),
                 do: "named as tooling but in a runtime folder",
                 else: "named as runtime but in a tooling folder: the layer would ship it"
               )
    end

    # Both sides are there: the split is not vacuous.
    assert LambdaRuntime.Runtime in runtime_modules()
    assert LambdaRuntime.AWS.SigV4 in runtime_modules()
    assert Builder.tooling?(LambdaRuntime.Tools.Layer.Builder)
    assert Builder.tooling?(LambdaRuntime.Test) and Builder.tooling?(LambdaRuntime.Durable.Test)
    assert Builder.tooling?(Mix.Tasks.Lambda.Invoke)
    assert Builder.tooling?(String.Chars.LambdaRuntime.Tools.Emulator.Report)
    refute Builder.tooling?(Inspect.LambdaRuntime.AWS.Credentials)
  end

  test "no runtime module names a tooling module (it would be missing inside Lambda)" do
    offenders =
      for %{module: module, beam: beam, source: source} <- lib_modules(),
          not tooling_source?(source),
          {:ok, {_, [atoms: atoms]}} = :beam_lib.chunks(String.to_charlist(beam), [:atoms]),
          {_index, atom} <- atoms,
          String.starts_with?(Atom.to_string(atom), "Elixir."),
          Builder.tooling?(atom),
          do: "#{inspect(module)} -> #{inspect(atom)}"

    assert offenders == []
  end

  @tag :layer
  @tag timeout: 1_800_000
  @tag :tmp_dir
  test "the built layer's lambda_runtime holds exactly the runtime modules", ctx do
    zip = PortableLayers.zip!(Target.host_arch())
    dir = Build.unzip!(zip, Path.join(ctx.tmp_dir, "opt"))
    [ebin] = Path.wildcard(Path.join(dir, "lib/lambda_runtime-*/ebin"))

    shipped =
      for beam <- Path.wildcard(Path.join(ebin, "*.beam")),
          do: beam |> Path.basename(".beam") |> String.to_atom()

    assert Enum.sort(shipped) == runtime_modules()

    {:ok, [{:application, :lambda_runtime, props}]} =
      :file.consult(Path.join(ebin, "lambda_runtime.app"))

    assert Enum.sort(props[:modules]) == runtime_modules()
  end
end
