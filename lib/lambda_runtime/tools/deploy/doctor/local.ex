defmodule LambdaRuntime.Tools.Deploy.Doctor.Local do
  @moduledoc """
  The doctor's checks of this machine and project: Elixir and OTP (and
  what the layer will carry), the OTP applications deploying needs, the
  runtime's NIF, the handler, the layer's tool chain (zig, cargo-zigbuild,
  Rust) and cache, the layer zip and its architecture.
  """

  alias LambdaRuntime.Tools.Deploy.Doctor.Check
  alias LambdaRuntime.{HandlerRef, OTPApps}
  alias LambdaRuntime.Tools.Layer.{Cache, Manifest, OtpSource, Target, Zig}

  @nif "liblambda_runtime_nif.so"

  @doc "Checks that need no project settings."
  def checks(_ctx), do: [versions(), otp_apps(), nif()]

  @doc "Checks of the project's `lambda:` settings and the layer."
  def project_checks(%{config: nil}), do: []

  def project_checks(ctx) do
    arch = ctx.config.architecture || to_string(Target.host_arch())
    [handler(ctx.config)] ++ toolchain(ctx, arch) ++ [cache()] ++ layer(ctx, arch)
  end

  defp versions do
    elixir = System.version()
    otp = OtpSource.host_otp_version()
    erts = OtpSource.host_erts_version()
    carried = "the layer carries ERTS #{erts}, OTP #{otp}'s applications and Elixir #{elixir}"
    name = "Elixir/OTP"

    cond do
      Version.match?(elixir, "< 1.14.0") or otp_major() < 25 ->
        Check.error(
          name,
          "Elixir #{elixir} on OTP #{otp}: lambda_runtime needs Elixir 1.14+ on OTP 25+",
          "install a newer Elixir and Erlang/OTP (e.g. Debian 12's, or asdf)"
        )

      elixir_minor() in [14, 18] and otp_major() in 25..27 ->
        Check.ok(name, "Elixir #{elixir} on OTP #{otp} (tested); #{carried}")

      elixir_minor() in 15..17 and otp_major() in 25..27 ->
        Check.ok(
          name,
          "Elixir #{elixir} on OTP #{otp} (between the tested 1.14 and 1.18); #{carried}"
        )

      true ->
        Check.warn(
          name,
          "Elixir #{elixir} on OTP #{otp} is newer than the tested 1.18 / OTP 27; #{carried}",
          "expect it to work; if something fails, try Elixir 1.18 on OTP 27"
        )
    end
  end

  defp otp_major, do: :erlang.system_info(:otp_release) |> to_string() |> String.to_integer()
  defp elixir_minor, do: Version.parse!(System.version()).minor

  defp otp_apps do
    case OTPApps.ensure_available([:crypto, :public_key, :ssl, :inets]) do
      :ok ->
        Check.ok(
          "OTP apps",
          "crypto, public_key, ssl and inets (deploy's HTTPS and signing) are installed"
        )

      {:error, message} ->
        Check.error("OTP apps", message, "install the package named above")
    end
  end

  defp nif do
    root = LambdaRuntime.Tools.source_root()
    installed = Path.join([root, "priv/native", @nif])

    cond do
      not File.regular?(installed) ->
        Check.error(
          "NIF",
          "#{installed} is missing: the runtime cannot start",
          "mix deps.compile lambda_runtime (or LAMBDA_RUNTIME_BUILD_NIF=1 with Rust installed)"
        )

      not loads?() ->
        Check.error(
          "NIF",
          "#{installed} does not load on this machine",
          "rebuild it from source: LAMBDA_RUNTIME_BUILD_NIF=1 mix deps.compile lambda_runtime --force"
        )

      true ->
        Check.ok("NIF", nif_origin(root, installed) <> ", loads")
    end
  end

  defp loads? do
    LambdaRuntime.JSON.encode!([1]) == "[1]"
  rescue
    _ -> false
  end

  # LambdaRuntime.Tools.PrecompiledNif lives in lambda_runtime's mix/ (the NIF
  # compiler uses it before lib/ compiles); it is loaded with the project.
  defp nif_origin(root, installed) do
    precompiled = LambdaRuntime.Tools.PrecompiledNif

    with true <- Code.ensure_loaded?(precompiled),
         {:ok, index} <- apply(precompiled, :read_index, [apply(precompiled, :dir, [root])]),
         sha = apply(precompiled, :sha256, [File.read!(installed)]),
         {file, ^sha} <- Enum.find(index.sums, fn {_, s} -> s == sha end) do
      "precompiled (#{file}, SHA-256 #{String.slice(sha, 0, 12)} as in SHA256SUMS)"
    else
      _ ->
        "built from source (or LAMBDA_RUNTIME_NIF_PATH) into #{Path.relative_to_cwd(installed)}"
    end
  end

  defp handler(%{handler: nil}) do
    Check.error(
      "handler",
      "no handler is set",
      ~s(set lambda: [handler: "MyFunction.handle"] in mix.exs)
    )
  end

  defp handler(%{handler: handler}) do
    case HandlerRef.resolve(handler) do
      {:ok, ref} ->
        Check.ok("handler", "#{handler}: #{HandlerRef.describe(ref)}")

      {:error, report} ->
        Check.error(
          "handler",
          "#{handler}: #{report.message}",
          "fix lambda: [handler: ...] in mix.exs, or the module (Module.function with arity 1 or 2, " <>
            "or a module that uses LambdaRuntime.Handler)"
        )
    end
  end

  # The layer's native code is built on this machine unless a published
  # layer (layer_arn) or a given zip is used.
  defp toolchain(%{config: %{layer_arn: arn}}, _arch) when is_binary(arn),
    do: [Check.info("layer tools", "not needed: layer_arn is #{arn}")]

  defp toolchain(%{layer_zip: zip}, _arch) when is_binary(zip),
    do: [Check.info("layer tools", "not needed: --layer-zip #{zip}")]

  defp toolchain(_ctx, arch) do
    zig =
      case Zig.find() do
        {:ok, zig} ->
          Check.ok("zig", "#{zig.version} (#{zig.path}): compiles the layer's ERTS")

        :error ->
          Check.error(
            "zig",
            "not found: mix lambda.layer compiles the layer's ERTS with it",
            "pip install ziglang (or put zig on PATH, or set ZIG)"
          )
      end

    [zig | nif_tools(arch)]
  end

  # The layer's NIF is the package's precompiled one when it was built from
  # these sources for the layer's target; only otherwise is it compiled.
  defp nif_tools(arch) do
    cpu = if arch == "arm64", do: "aarch64", else: "x86_64"

    case LambdaRuntime.Tools.PrecompiledNif.for_target(
           LambdaRuntime.Tools.source_root(),
           cpu,
           {2, 31}
         ) do
      {:ok, path} ->
        [
          Check.ok(
            "layer NIF",
            "precompiled for #{arch} (#{Path.basename(path)}): no Rust or cargo-zigbuild needed"
          )
        ]

      _ ->
        [zigbuild(), rust(arch)]
    end
  end

  defp zigbuild do
    found =
      [
        System.find_executable("cargo-zigbuild"),
        Path.join(File.cwd!(), ".venv/bin/cargo-zigbuild")
      ]
      |> Enum.find(&(is_binary(&1) and File.regular?(&1)))

    if found,
      do: Check.ok("cargo-zigbuild", "#{found}: builds the layer's NIF"),
      else:
        Check.error(
          "cargo-zigbuild",
          "not found: mix lambda.layer builds the runtime's NIF for the layer with it",
          "pip install cargo-zigbuild"
        )
  end

  defp rust(arch) do
    triple = if arch == "arm64", do: "aarch64-unknown-linux-gnu", else: "x86_64-unknown-linux-gnu"

    case System.find_executable("cargo") do
      nil ->
        Check.error(
          "Rust",
          "cargo not found: mix lambda.layer compiles the runtime's NIF for the layer with it " <>
            "(no precompiled NIF matches these sources)",
          "install Rust (https://rustup.rs), or deploy with a published layer (--layer-arn)"
        )

      cargo ->
        case System.find_executable("rustup") do
          nil ->
            Check.ok("Rust", "#{cargo}")

          rustup ->
            {out, _} =
              System.cmd(rustup, ["target", "list", "--installed"], stderr_to_stdout: true)

            if triple in String.split(out),
              do: Check.ok("Rust", "#{cargo}, target #{triple} installed"),
              else:
                Check.error(
                  "Rust",
                  "the #{triple} target is not installed",
                  "rustup target add #{triple}"
                )
        end
    end
  end

  defp cache do
    root = Cache.root()

    if File.dir?(root) do
      entries =
        for section <- File.ls!(root), dir = Path.join(root, section), File.dir?(dir), do: section

      Check.info("layer cache", "#{root} (#{Enum.join(Enum.sort(entries), ", ")})")
    else
      Check.info(
        "layer cache",
        "#{root} is empty: the first mix lambda.layer builds ERTS and OpenSSL (5-9 minutes), later ones take seconds"
      )
    end
  end

  defp layer(ctx, arch) do
    zip = ctx.layer_zip || Path.join(ctx.build_root, "lambda/layer-#{arch}.zip")

    cond do
      ctx.config.layer_arn ->
        []

      not File.regular?(zip) ->
        [
          Check.info(
            "layer zip",
            "#{Path.relative_to_cwd(zip)} not built yet: mix lambda.deploy builds it (or MIX_ENV=prod mix lambda.layer --arch #{arch})"
          )
        ]

      true ->
        case Manifest.read_zip(zip) do
          {:ok, m} ->
            [layer_manifest(m, zip, arch)]

          error ->
            [
              Check.error(
                "layer zip",
                Manifest.check_deployable(error, arch) |> elem(1),
                "mix lambda.layer --arch #{arch}"
              )
            ]
        end
    end
  end

  defp layer_manifest(m, zip, arch) do
    otp = OtpSource.host_otp_version()
    same_vm = m.otp == otp and m.elixir == System.version()

    described =
      "#{Path.relative_to_cwd(zip)}: #{m.architecture}, OTP #{m.otp}, Elixir #{m.elixir}, runtime #{m.runtime}"

    case {Manifest.check_deployable(m, arch), same_vm} do
      {{:error, message}, _} ->
        Check.error(
          "architecture",
          message,
          "mix lambda.layer --arch #{arch}, or set lambda: [architecture: \"#{m.architecture}\"]"
        )

      {:ok, false} ->
        Check.warn(
          "layer zip",
          described <> "; this machine has OTP #{otp} and Elixir #{System.version()}",
          "rebuild the layer here (mix lambda.layer --arch #{arch}) so that it runs the beams this machine compiles"
        )

      {:ok, true} ->
        Check.ok("layer zip", described <> "; matches the function's #{arch}")
    end
  end
end
