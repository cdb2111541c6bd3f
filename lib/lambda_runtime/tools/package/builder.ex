defmodule LambdaRuntime.Tools.Package.Builder do
  @moduledoc """
  Builds the function zip (what `mix lambda.package` runs): the project's
  application and the applications it needs at run time (its `.app`
  `applications` and `included_applications`, transitively) that the layer
  does not provide, each as

      lib/APP/ebin/*.beam, lib/APP/ebin/APP.app, lib/APP/priv/...

  plus the project's consolidated protocols in `lib/APP/consolidated/`
  (`bootstrap` puts both on the code path). Beams are stripped like the
  layer's. The project's compile-time config (`config/config.exs`) is
  written into the `env` of each packaged `.app`, since no Mix runs on
  Lambda to load it; the whole configuration, for every application
  (`:logger` too) and with `config/runtime.exs` compiled, also goes in as
  `lambda_runtime/config.beam` (`LambdaRuntime.Tools.Package.AppConfig`), which
  `LambdaRuntime.AppConfig` applies at cold start.

  Never packaged: `:lambda_runtime`, Erlang/OTP and Elixir applications,
  dotfiles (`.env`, `.mix`, ...) and anything outside the chosen
  environment's build directory. Symbolic links under `priv/` are stored
  as the files they name, and refused when they loop or leave the project
  (`LambdaRuntime.Tools.Package.PrivFiles`).
  """

  alias LambdaRuntime.Tools.Layer.{Builder, Summary}
  alias LambdaRuntime.OTPApps
  alias LambdaRuntime.Tools.Package.{CompilerCheck, LayerInfo, PrivFiles, ZipWriter}

  @doc """
  Options: `:app`, `:build_path` (`_build/ENV`), `:env`, `:layer`
  (`LayerInfo`), `:output`, `:stage`, `:config` (keyword of app envs, from
  the project's config files), `:app_config` (the compiled configuration
  module's beam, or nil), `:consolidated` (the consolidation path),
  `:project_root` and `:allow_external_links` (see
  `LambdaRuntime.Tools.Package.PrivFiles`).
  Returns `{:ok, stats}` or `{:error, message}`.
  """
  def build(opts) do
    app = Keyword.fetch!(opts, :app)
    lib = Path.join(Keyword.fetch!(opts, :build_path), "lib")
    layer = %LayerInfo{} = Keyword.fetch!(opts, :layer)
    output = Keyword.fetch!(opts, :output)
    stage = Keyword.fetch!(opts, :stage)

    with {:ok, apps} <- closure(app, lib, layer),
         {:ok, files} <- all_files(apps, lib, opts),
         :ok <- compiler_check(files, layer) do
      File.rm_rf!(stage)

      for {src, rel} <- files ++ consolidated(app, Keyword.get(opts, :consolidated)) do
        dest = Path.join(stage, rel)
        File.mkdir_p!(Path.dirname(dest))
        File.cp!(src, dest)
        if String.ends_with?(rel, ".beam"), do: Builder.strip_beam(dest)
      end

      config = Keyword.get(opts, :config, [])
      for a <- apps, do: merge_config(Path.join(stage, "lib/#{a}/ebin/#{a}.app"), config[a])

      entries =
        for {_, rel} <- files ++ consolidated(app, Keyword.get(opts, :consolidated)),
            do: {rel, {:file, Path.join(stage, rel)}, 0o644}

      entries =
        case opts[:app_config] do
          nil -> entries
          beam -> entries ++ [{LambdaRuntime.AppConfig.relative_path(), {:data, beam}, 0o644}]
        end

      comment = "#{app} MIX_ENV=#{opts[:env]} compiler #{layer.compiler_vsn}"
      stats = ZipWriter.write!(output, entries, comment: comment)
      Summary.print(output, stats)
      {:ok, %{apps: apps, stats: stats}}
    end
  end

  @doc """
  The applications to package, starting from `app`: those `app` needs at
  run time that are compiled under `lib` and that the layer does not hold.
  """
  def closure(app, lib, layer), do: walk([app], lib, layer, [], [])

  defp walk([], _lib, _layer, acc, []), do: {:ok, Enum.reverse(acc)}

  defp walk([], _lib, _layer, _acc, missing) do
    {:error,
     "the function needs applications that are neither in the layer (#{layer_desc()}) nor " <>
       "compiled in this project:\n" <> Enum.map_join(Enum.reverse(missing), "\n", &("  " <> &1))}
  end

  defp walk([a | rest], lib, layer, acc, missing) do
    app_file = Path.join([lib, "#{a}", "ebin", "#{a}.app"])

    cond do
      a in acc or Map.has_key?(layer.apps, a) ->
        walk(rest, lib, layer, acc, missing)

      File.regular?(app_file) and not otp_app?(a) ->
        {:ok, [{:application, ^a, props}]} = :file.consult(app_file)

        deps =
          Keyword.get(props, :applications, []) ++
            Keyword.get(props, :included_applications, [])

        walk(rest ++ deps, lib, layer, [a | acc], missing)

      otp_app?(a) ->
        walk(rest, lib, layer, acc, [
          "#{a}: part of Erlang/OTP or Elixir, but not in the layer" | missing
        ])

      true ->
        walk(rest, lib, layer, acc, ["#{a}: not compiled in #{lib} (mix deps.get?)" | missing])
    end
  end

  defp layer_desc, do: "kernel, stdlib, compiler, elixir, logger, crypto, ssl, ..."

  # An application that ships with Erlang/OTP or Elixir (found outside the
  # project's build directory).
  defp otp_app?(app) do
    case OTPApps.lib_dir(app) do
      :error ->
        false

      {:ok, dir} ->
        elixir_lib = :code.lib_dir(:elixir) |> to_string() |> Path.dirname()
        roots = [to_string(:code.root_dir()), elixir_lib]
        Enum.any?(roots, &String.starts_with?(dir, &1 <> "/"))
    end
  end

  defp all_files(apps, lib, opts) do
    Enum.reduce_while(apps, {:ok, []}, fn app, {:ok, acc} ->
      case app_files(lib, app, opts) do
        {:ok, files} -> {:cont, {:ok, acc ++ files}}
        {:error, _} = error -> {:halt, error}
      end
    end)
  end

  defp app_files(lib, app, opts) do
    dir = Path.join(lib, "#{app}")

    ebin =
      for path <- Path.wildcard(Path.join(dir, "ebin/*")),
          Path.extname(path) in [".beam", ".app"],
          do: {path, "lib/#{app}/ebin/#{Path.basename(path)}"}

    # priv/ is usually a symlink into the project; links inside it are
    # checked (PrivFiles): no loops, nothing from outside the project.
    with {:ok, priv} <-
           PrivFiles.list(dir, app, Keyword.take(opts, [:project_root, :allow_external_links])),
         do: {:ok, ebin ++ priv}
  end

  defp consolidated(_app, nil), do: []

  defp consolidated(app, path) do
    for beam <- Path.wildcard(Path.join(path, "*.beam")),
        do: {beam, "lib/#{app}/consolidated/#{Path.basename(beam)}"}
  end

  defp compiler_check(files, layer) do
    beams = for {src, rel} <- files, String.ends_with?(rel, ".beam"), do: src

    case CompilerCheck.run(beams, layer.compiler_vsn) do
      :ok ->
        :ok

      {:error, newer} ->
        rows = Enum.map_join(newer, "\n", fn {beam, vsn} -> "  #{beam}  compiler #{vsn}" end)

        {:error,
         """
         these beams were compiled by a newer OTP than the layer's \
         (#{layer.source}, compiler #{layer.compiler_vsn}), whose VM may not load them:

         #{rows}

         Compile the function with the same Erlang/OTP release as the layer \
         (or build the layer with the newer one).
         """}
    end
  end

  defp merge_config(_app_file, nil), do: :ok

  defp merge_config(app_file, config) do
    {:ok, [{:application, name, props}]} = :file.consult(app_file)
    env = Keyword.merge(Keyword.get(props, :env, []), config)
    props = Keyword.put(props, :env, env)
    File.write!(app_file, :io_lib.format("~p.~n", [{:application, name, props}]))
  end
end
