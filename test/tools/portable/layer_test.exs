defmodule LambdaRuntime.Portable.LayerTest do
  # The portable layers (`mix lambda.layer --arch x86_64|arm64`), each in
  # its old-glibc sandbox (the bullseye root of its architecture; arm64
  # under qemu-user) against cargo-lambda's Runtime API emulator, with the
  # function test/fixtures/portable packaged by `mix lambda.package`.
  #
  # The layers are the ones `mix lambda.layer --arch ARCH` builds here
  # (test/support/layer/portable_layers.ex; cached after the first build), unless
  # the environment names others:
  #
  #   LAMBDA_PORTABLE_LAYER_X86_64, LAMBDA_PORTABLE_LAYER_ARM64
  #       the layer zip (or unpacked directory) of that architecture
  #   LAMBDA_PORTABLE_LIBCRYPTO_X86_64, LAMBDA_PORTABLE_LIBCRYPTO_ARM64
  #       a libcrypto.so.3 put into the root (scripts/rootfs.sh --libcrypto),
  #       standing in for AL2023's; default: the OpenSSL 3.0 the layer's
  #       crypto was linked against
  #   LAMBDA_PORTABLE_ROOTFS=host
  #       run over this machine's root instead of bullseye's (this
  #       machine's architecture only): checks these tests with a layer
  #       built from this machine's ERTS
  #
  #   LAMBDA_PORTABLE_LAYER_X86_64=dist/layer-x86_64.zip mix test --only portable_layer
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO

  alias LambdaRuntime.Tools.Emulator.Sandbox, as: Command
  alias LambdaRuntime.Tools.Emulator.EventStream
  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{Build, CargoLambda, PortableLayers, RootFS, Sandbox}

  @moduletag :portable_layer
  @moduletag timeout: 900_000
  @root LambdaRuntime.TestSupport.Paths.root()
  @fixture Path.join(@root, "test/fixtures/portable")

  # An invocation under qemu-user takes seconds, not milliseconds.
  @invoke_timeout 180_000

  setup_all do
    tmp = Path.join(System.tmp_dir!(), "lambda_portable_#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)
    on_exit(fn -> File.rm_rf!(tmp) end)
    %{tmp: tmp}
  end

  for arch <- [:x86_64, :arm64] do
    machine = %{x86_64: "x86_64", arm64: "aarch64"}[arch]

    describe "the #{arch} layer" do
      @describetag arch: arch

      setup %{arch: arch, tmp: tmp} do
        emu = CargoLambda.start!()
        on_exit(fn -> CargoLambda.stop(emu) end)
        Map.put(prepare!(arch, tmp), :emu, emu)
      end

      test "serves an invocation, as #{machine}", ctx do
        sandbox = start(ctx, "Portable.hello")

        try do
          assert {200, body} = invoke(ctx, sandbox, ~s({"name":"Ada"}))
          response = JSON.decode!(body)
          assert response["message"] == "Hello, Ada!"
          assert is_binary(response["request_id"])
          assert response["system_architecture"] =~ ~r/^#{unquote(machine)}-/
          assert response["root_dir"] == "/opt"
          assert response["otp_release"] == to_string(:erlang.system_info(:otp_release))
          assert Sandbox.stop(sandbox) =~ "greeting Ada"
        after
          Sandbox.stop(sandbox)
        end
      end

      test "every ELF file in the layer is for #{machine}", ctx do
        elf_files =
          for path <- Path.wildcard(Path.join(ctx.layer, "**"), match_dot: true),
              File.regular?(path),
              File.open!(path, [:read], &IO.binread(&1, 4)) == <<0x7F, "ELF">>,
              do: path

        assert Enum.any?(elf_files, &String.ends_with?(&1, "/beam.smp"))
        wrong = Enum.reject(elf_files, &(Command.elf_arch(&1) == ctx.arch))
        assert wrong == [], "not #{ctx.arch}: #{inspect(wrong)}"
      end

      test "a handler error is reported, and the runtime serves on", ctx do
        sandbox = start(ctx, "Portable.hello")

        try do
          # cargo-lambda answers a function error with HTTP 500.
          assert {500, body} = invoke(ctx, sandbox, ~s({"fail":true}))
          error = JSON.decode!(body)
          assert error["errorType"] == "ArgumentError"
          assert error["errorMessage"] == "asked to fail"
          assert Enum.any?(error["stackTrace"], &(&1 =~ "Portable.hello"))

          assert {200, body} = invoke(ctx, sandbox, ~s({"name":"Grace"}))
          assert JSON.decode!(body)["message"] == "Hello, Grace!"
        after
          Sandbox.stop(sandbox)
        end
      end

      test "an init error ends the runtime with a non-zero status", ctx do
        sandbox = start(ctx, "Portable.InitFails")
        assert {status, output} = Sandbox.await_exit(sandbox, @invoke_timeout)
        assert status != 0
        assert output =~ "no database configured"
        assert output =~ "init failed"
      end

      test ":crypto and :ssl work, with OpenSSL 3", ctx do
        sandbox = start(ctx, "Portable.crypto")

        try do
          assert {200, body} = invoke(ctx, sandbox, ~s({"text":"abc"}))
          response = JSON.decode!(body)

          assert response["sha256"] ==
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

          assert response["ssl_started"] == true
          assert "tlsv1.3" in response["ssl_versions"]
          assert response["openssl"] =~ ~r/^OpenSSL 3\./
          # The VM loaded a libcrypto.so.3: the layer's own (bundled) or the
          # root's stand-in for AL2023's.
          assert Enum.any?(
                   response["libraries"],
                   &(&1 =~ ~r{^/(opt|usr/lib)/.*/libcrypto\.so\.3$})
                 )
        after
          Sandbox.stop(sandbox)
        end
      end

      test "what a function uses beyond the runtime: TLS, httpc, run-time compile", ctx do
        sandbox = start(ctx, "Portable.libraries")

        try do
          assert {200, body} = invoke(ctx, sandbox, "{}")
          response = JSON.decode!(body)
          assert response["tls"] == %{"echo" => "ping", "protocol" => "tlsv1.3"}
          assert response["httpc"] == %{"status" => 200, "body" => "pong"}
          assert response["compiled"] == 42
        after
          Sandbox.stop(sandbox)
        end
      end

      # cargo-lambda does not relay streamed responses: this one runs against
      # lambda_runtime's own emulator, through InvokeWithResponseStream.
      test "a streamed response arrives as a stream", ctx do
        emu = start_supervised!({LambdaRuntime.Tools.Emulator, timeout: 120})
        port = LambdaRuntime.Tools.Emulator.port(emu)

        sandbox =
          Sandbox.start!(
            ctx.layer,
            ctx.task,
            LambdaRuntime.Tools.Emulator.runtime_api(emu),
            "Portable.stream",
            rootfs: ctx.rootfs,
            arch: ctx.arch
          )

        try do
          {:ok, _} = Application.ensure_all_started(:inets)

          url =
            ~c"http://127.0.0.1:#{port}/2021-11-15/functions/function/response-streaming-invocations"

          request = {url, [], ~c"application/json", ~s({"chunks":3})}
          options = [body_format: :binary]
          post = fn -> :httpc.request(:post, request, [timeout: @invoke_timeout], options) end

          assert {:ok, {{_, 200, _}, headers, body}} =
                   Sandbox.while_running(sandbox, post, @invoke_timeout)

          assert {~c"content-type", ~c"text/plain"} in headers
          events = EventStream.decode(body)
          assert List.last(events) == {"InvokeComplete", "{}"}

          chunks = for {"PayloadChunk", data} <- events, do: data
          assert IO.iodata_to_binary(chunks) == "chunk 1\nchunk 2\nchunk 3\n"
        after
          Sandbox.stop(sandbox)
        end
      end

      test "through mix lambda.invoke --layer ZIP --rootfs DIR --arch", ctx do
        args =
          ["--layer", ctx.layer_zip, "--package-zip", ctx.package_zip, "--arch", "#{ctx.arch}"] ++
            if(ctx.rootfs, do: ["--rootfs", ctx.rootfs], else: []) ++
            ["--handler", "Portable.hello", "--data", ~s({"name":"Ada"}), "--timeout", "120"]

        output = capture_io(fn -> Mix.Tasks.Lambda.Invoke.run(args) end)
        assert output =~ ~s("message": "Hello, Ada!")
        assert output =~ ~r/"system_architecture": "#{unquote(machine)}-/
        assert output =~ "REPORT RequestId"
      end
    end
  end

  # An invocation through cargo-lambda, failing at once if the runtime exits.
  defp invoke(ctx, sandbox, body) do
    Sandbox.while_running(
      sandbox,
      fn -> CargoLambda.invoke(ctx.emu, body, @invoke_timeout) end,
      @invoke_timeout
    )
  end

  defp start(ctx, handler) do
    Sandbox.start!(ctx.layer, ctx.task, CargoLambda.runtime_api(ctx.emu), handler,
      rootfs: ctx.rootfs,
      arch: ctx.arch
    )
  end

  # The layer unpacked, the fixture packaged against it, and the root; once
  # per architecture and test run.
  defp prepare!(arch, tmp) do
    key = {__MODULE__, arch, tmp}

    with nil <- :persistent_term.get(key, nil) do
      prepared = do_prepare!(arch, Path.join(tmp, to_string(arch)))
      :persistent_term.put(key, prepared)
      prepared
    end
  end

  defp do_prepare!(arch, tmp) do
    if Command.bwrap() == nil, do: raise("bwrap is required: run scripts/setup.sh")
    suffix = arch |> Atom.to_string() |> String.upcase()
    # The zips given, else the ones mix lambda.layer builds here; the
    # stand-in for AL2023's libcrypto is the OpenSSL 3.0 the layer's crypto
    # was linked against (bullseye has only OpenSSL 1.1).
    layer_zip =
      case System.get_env("LAMBDA_PORTABLE_LAYER_#{suffix}") do
        path when path not in [nil, ""] -> Path.expand(path)
        _ -> PortableLayers.zip!(arch)
      end

    libcrypto =
      case System.get_env("LAMBDA_PORTABLE_LIBCRYPTO_#{suffix}") do
        path when path not in [nil, ""] -> path
        _ -> PortableLayers.libcrypto!(arch)
      end

    File.mkdir_p!(tmp)

    layer =
      if File.dir?(layer_zip), do: layer_zip, else: Build.unzip!(layer_zip, Path.join(tmp, "opt"))

    package_zip = Path.join(tmp, "function.zip")
    check = if File.dir?(layer_zip), do: [], else: ["--layer", layer_zip]

    Build.mix!(
      @fixture,
      Path.join(tmp, "build"),
      ["lambda.package" | check] ++ ["--output", package_zip]
    )

    rootfs =
      case System.get_env("LAMBDA_PORTABLE_ROOTFS") do
        "host" ->
          if arch != Command.host_arch(),
            do: raise("LAMBDA_PORTABLE_ROOTFS=host runs only this machine's architecture")

          nil

        _ ->
          RootFS.path!(arch, libcrypto: libcrypto && Path.expand(libcrypto))
      end

    %{
      arch: arch,
      layer: layer,
      layer_zip: layer_zip,
      package_zip: package_zip,
      task: Build.unzip!(package_zip, Path.join(tmp, "task")),
      rootfs: rootfs
    }
  end
end
