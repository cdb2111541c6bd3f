defmodule LambdaRuntime.Tools.Layer.SandboxTest do
  # The layer and the function zip, unzipped and run the way Lambda runs
  # them (bwrap: read-only /opt and /var/task, tmpfs /tmp, no host Erlang or
  # Elixir, Lambda's environment only, uid 993) against cargo-lambda's
  # Runtime API emulator. Builds both zips with the real Mix tasks first.
  use ExUnit.Case, async: false

  alias LambdaRuntime.JSON
  alias LambdaRuntime.Tools.Layer.{Manifest, Target}
  alias LambdaRuntime.TestSupport.{Build, CargoLambda, PortableLayers, Sandbox}

  @moduletag :layer
  @moduletag timeout: 600_000
  @root LambdaRuntime.TestSupport.Paths.root()

  setup_all do
    if Sandbox.bwrap() == nil, do: raise("bwrap is required: run scripts/setup.sh")

    tmp = Path.join(System.tmp_dir!(), "lambda_sandbox_#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)
    on_exit(fn -> File.rm_rf!(tmp) end)

    # The product's layer (ERTS built with zig for glibc 2.31) over this
    # machine's root; test/tools/portable runs it over an old-glibc root.
    layer_zip = PortableLayers.zip!(Target.host_arch())
    function_zip = Path.join(tmp, "hello.zip")

    Build.mix!(Path.join(@root, "examples/hello"), Path.join(tmp, "build-hello"), [
      "lambda.package",
      "--layer",
      layer_zip,
      "--output",
      function_zip
    ])

    layer = Build.unzip!(layer_zip, Path.join(tmp, "opt"))
    task = Build.unzip!(function_zip, Path.join(tmp, "task"))
    empty = Path.join(tmp, "empty")
    File.mkdir_p!(empty)

    %{
      layer_dir: layer,
      task: task,
      empty: empty,
      tmp: tmp,
      layer_zip: layer_zip,
      function_zip: function_zip
    }
  end

  setup do
    emu = CargoLambda.start!()
    on_exit(fn -> CargoLambda.stop(emu) end)
    %{emu: emu}
  end

  test "the zips hold what they should and nothing else", ctx do
    function_entries = Build.zip_names(ctx.function_zip)
    assert "lib/hello/ebin/Elixir.Hello.beam" in function_entries
    assert Enum.all?(function_entries, &String.starts_with?(&1, "lib/hello/"))
    assert File.stat!(ctx.function_zip).size <= 20_000

    layer_entries = Build.zip_names(ctx.layer_zip)
    erts = "erts-#{:erlang.system_info(:version)}/bin/"

    for file <- ~w(beam.smp erlexec erl_child_setup inet_gethost),
        do: assert((erts <> file) in layer_entries)

    refute (erts <> "epmd") in layer_entries
    assert "bin/no_dot_erlang.boot" in layer_entries
    assert Enum.any?(layer_entries, &(&1 =~ ~r{^lib/lambda_runtime-[^/]+/priv/native/}))
    assert Enum.any?(layer_entries, &(&1 =~ ~r{^lib/ssl-[^/]+/ebin/ssl.app$}))
    assert Enum.any?(layer_entries, &(&1 =~ ~r{^lib/crypto-[^/]+/priv/lib/crypto.so$}))
    # Nothing from this machine's /usr/lib: the target's libcrypto is used.
    refute Enum.any?(layer_entries, &String.starts_with?(&1, "shlib/"))
    assert {:ok, manifest} = Manifest.read_zip(ctx.layer_zip)
    assert manifest.erts_build == "zig" and manifest.libcrypto == "system"
    assert manifest.forced == []
    refute Enum.any?(layer_entries, &(&1 =~ ~r{/(include|src|doc|man|examples)/}))
    refute Enum.any?(layer_entries, &(&1 =~ ~r{Mix\.Tasks|asn1ct}))
    # Durable functions checkpoint from inside Lambda: their modules and the
    # signed AWS client ship; the deploy-time and local-only ones do not.
    ebin = &("lib/lambda_runtime-0.1.0/ebin/Elixir.LambdaRuntime." <> &1 <> ".beam")

    for mod <- ~w(Durable Durable.Service.HTTP AWS.SigV4 AWS.HTTP AWS.ServiceClient OTPApps),
        do: assert(ebin.(mod) in layer_entries, mod)

    for mod <-
          ~w(Tools.AWS.Lambda Tools.Durable.Local.DexRunner Durable.Test Tools.Deploy.Project Tools.Emulator Test Samples),
        do: refute(ebin.(mod) in layer_entries, mod)

    # The boot script preloads the runtime's modules, but never a protocol.
    {:script, _, commands} =
      Path.join(ctx.layer_dir, "bin/lambda.boot") |> File.read!() |> :erlang.binary_to_term()

    preloaded = for {:primLoad, mods} <- commands, mod <- mods, do: mod
    assert LambdaRuntime.Runtime in preloaded and Elixir.Kernel in preloaded
    refute Enumerable in preloaded or String.Chars in preloaded

    {listing, 0} = System.cmd("unzip", ["-Z", ctx.layer_zip])
    assert listing =~ ~r/-rwxr-xr-x .* bootstrap\n/
  end

  test "success and error invocations behave as in the dev checkout", ctx do
    sandbox =
      Sandbox.start!(ctx.layer_dir, ctx.task, CargoLambda.runtime_api(ctx.emu), "Hello.handle")

    try do
      assert {200, body} = CargoLambda.invoke(ctx.emu, ~s({"name":"Ada"}))
      response = JSON.decode!(body)
      assert response["message"] == "Hello, Ada!"
      assert response["function_name"] == "sandboxed-hello"
      assert is_binary(response["request_id"])

      # cargo-lambda answers a function error with HTTP 500.
      assert {500, body} = CargoLambda.invoke(ctx.emu, ~s({"fail":true}))
      error = JSON.decode!(body)
      assert error["errorType"] == "ArgumentError"
      assert error["errorMessage"] =~ "asked to fail"

      # The runtime keeps serving after a function error.
      assert {200, body} = CargoLambda.invoke(ctx.emu, ~s({"name":"Grace"}))
      assert JSON.decode!(body)["message"] == "Hello, Grace!"
    after
      output = Sandbox.stop(sandbox)
      assert output =~ "greeting Ada"
    end
  end

  test "an unknown handler is an init error: the runtime exits non-zero", ctx do
    sandbox =
      Sandbox.start!(ctx.layer_dir, ctx.task, CargoLambda.runtime_api(ctx.emu), "Nope.handle")

    assert {status, output} = Sandbox.await_exit(sandbox, 30_000)
    assert status != 0
    assert output =~ "Nope"
    assert output =~ "init failed"
  end

  test "without the layer (an empty /opt) the function cannot run", ctx do
    sandbox =
      Sandbox.start!(ctx.empty, ctx.task, CargoLambda.runtime_api(ctx.emu), "Hello.handle")

    assert {status, output} = Sandbox.await_exit(sandbox)
    assert status != 0
    assert output =~ "/opt/bootstrap"
  end

  test "the host's Erlang is hidden: bootstrap without the layer's ERTS finds none", ctx do
    only_bootstrap = Path.join(ctx.tmp, "only_bootstrap")
    File.mkdir_p!(only_bootstrap)
    File.cp!(Path.join(ctx.layer_dir, "bootstrap"), Path.join(only_bootstrap, "bootstrap"))
    File.chmod!(Path.join(only_bootstrap, "bootstrap"), 0o755)

    sandbox =
      Sandbox.start!(only_bootstrap, ctx.task, CargoLambda.runtime_api(ctx.emu), "Hello.handle")

    assert {127, output} = Sandbox.await_exit(sandbox)
    assert output =~ "no ERTS next to /opt/bootstrap and no erl on PATH"
  end
end
