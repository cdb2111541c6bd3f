defmodule LambdaRuntime.Tools.Layer.BootScript do
  @moduledoc """
  Writes the layer's `bin/lambda.boot`: OTP's `no_dot_erlang` boot script
  (interactive mode: a module loads on first use) that also loads, in
  batches of ten before the kernel starts and from known directories, the
  modules the runtime always uses before its first response.

  Measured in bench/coldstart: loading those ~100 modules one by one, each
  through the code server and a search of the whole code path, took about
  a quarter of the time to the first `/next`; the batch load cuts exec-to-
  first-response from ~188 to ~139 ms here (~505 to ~464 ms under a 0.3-CPU
  quota; bench/coldstart/RESULTS.md). Everything else still loads on first
  use.

  Never preloaded: protocols (the function package's consolidated versions
  must win) and modules missing from the staged layer (the list below is a
  measurement, not a contract: what is not there is skipped).
  """

  # Modules per primLoad batch. init prepares a whole batch at once, and
  # the allocator keeps the peak: one batch of 99 left the idle VM at 52-58
  # MiB RSS, batches of 10 at 40.7 (no preloading: 39.5), with the same gain.
  @batch 10

  # What `bootstrap` loaded before the first response of examples/hello
  # (OTP 25.2, Elixir 1.14), beyond the boot script's own first batch:
  # the kernel's and stdlib's start, the elixir and logger applications'
  # start, and the runtime's own path to its first response. Re-measure
  # when the runtime's init path changes (bench/coldstart/RESULTS.md says
  # how); a module listed here but not needed costs boot time for nothing.
  @preload [
    kernel: ~w(erl_distribution erl_signal_handler erpc global global_group inet
               inet_config inet_db inet_gethost_native inet_parse inet_udp
               kernel_config kernel_refc logger_formatter logger_h_common
               logger_handler_watcher logger_olp logger_proxy logger_std_h
               logger_sup net_kernel os rpc standard_error user user_sup),
    stdlib: ~w(beam_lib binary calendar epp erl_anno erl_features erl_scan gb_sets
               gb_trees io maps peer proplists queue rand string supervisor_bridge
               unicode unicode_util),
    elixir: ~w(Elixir.Access Elixir.Application Elixir.Enum Elixir.GenServer
               Elixir.IO.ANSI Elixir.Kernel Elixir.Keyword Elixir.List Elixir.Macro.Env
               Elixir.Map Elixir.Process Elixir.String.Tokenizer Elixir.Supervisor
               Elixir.Supervisor.Default Elixir.System elixir elixir_code_server
               elixir_config elixir_sup),
    logger: ~w(Elixir.Logger Elixir.Logger.App Elixir.Logger.BackendSupervisor
               Elixir.Logger.Backends.Console Elixir.Logger.Config Elixir.Logger.Filter
               Elixir.Logger.Formatter Elixir.Logger.Handler Elixir.Logger.Utils
               Elixir.Logger.Watcher),
    lambda_runtime: ~w(Elixir.LambdaRuntime.Application Elixir.LambdaRuntime.Bootstrap
                       Elixir.LambdaRuntime.Client Elixir.LambdaRuntime.Config
                       Elixir.LambdaRuntime.Context Elixir.LambdaRuntime.HandlerRef
                       Elixir.LambdaRuntime.Invoker Elixir.LambdaRuntime.JSON
                       Elixir.LambdaRuntime.LogFormat Elixir.LambdaRuntime.Native
                       Elixir.LambdaRuntime.Poller Elixir.LambdaRuntime.Reporter
                       Elixir.LambdaRuntime.Retry Elixir.LambdaRuntime.Runtime
                       Elixir.LambdaRuntime.Shutdown)
  ]

  @doc """
  Writes `bin/lambda.boot` into the staged layer `stage`, from the staged
  `bin/no_dot_erlang.boot`. Returns the number of preloaded modules.
  """
  @spec write!(Path.t()) :: non_neg_integer()
  def write!(stage) do
    ebins =
      for {app, _} <- @preload, dir = app_dir(stage, app), dir != nil, into: %{} do
        {app, {"$ROOT/" <> dir <> "/ebin", Path.join([stage, dir, "ebin"])}}
      end

    write!(Path.join(stage, "bin/no_dot_erlang.boot"), ebins, Path.join(stage, "bin/lambda.boot"))
  end

  @doc """
  The boot script of a development checkout (`bootstrap.sh` started with
  the machine's Erlang and Elixir): the same preloading, for the OTP and
  Elixir applications only, from this machine's installation. OTP's
  directories are named under `$ROOT` and Elixir's under `$ELIXIR_LIB`
  (bootstrap.sh passes `-boot_var ELIXIR_LIB`), and the runtime's own
  modules are left to the code path, so the file names no absolute path.
  Written by the `:lambda_boot` Mix compiler as `lambda-erts-VSN.boot`, for
  the ERTS it was made for; bootstrap.sh uses it only with that ERTS and
  only if it is newer than the Elixir install.
  """
  @spec write_dev!(Path.t()) :: non_neg_integer()
  def write_dev!(out) do
    root = List.to_string(:code.root_dir())
    elixir_lib = :elixir |> lib_dir() |> Path.join("..") |> Path.expand()

    ebins =
      for {app, _} <- @preload,
          app != :lambda_runtime,
          dir = lib_dir(app),
          dir != nil,
          ebin = Path.join(Path.expand(dir), "ebin"),
          script_dir = under(ebin, root, "$ROOT") || under(ebin, elixir_lib, "$ELIXIR_LIB"),
          script_dir != nil,
          into: %{},
          do: {app, {script_dir, ebin}}

    write!(Path.join(root, "bin/no_dot_erlang.boot"), ebins, out)
  end

  defp under(path, dir, var) do
    if String.starts_with?(path, dir <> "/"), do: var <> String.replace_prefix(path, dir, "")
  end

  @doc "The file name `write_dev!/1` is meant for, for the running ERTS."
  @spec dev_file_name() :: String.t()
  def dev_file_name, do: "lambda-erts-#{:erlang.system_info(:version)}.boot"

  defp lib_dir(app) do
    case :code.lib_dir(app) do
      {:error, _} -> nil
      dir -> List.to_string(dir)
    end
  end

  # `ebins`: app => {its ebin as the script names it, its ebin on disk}.
  defp write!(base, ebins, out) do
    {:script, name, commands} = base |> File.read!() |> :erlang.binary_to_term()

    {before, [{:primLoad, first} | rest]} =
      Enum.split_while(commands, &(elem(&1, 0) != :primLoad))

    {:path, boot_path} = List.last(before)

    picked =
      for {app, modules} <- @preload,
          {script_dir, local_dir} <- [ebins[app]],
          module <- modules,
          mod = String.to_atom(module),
          mod not in first,
          beam = Path.join(local_dir, module <> ".beam"),
          File.regular?(beam),
          preloadable?(beam),
          do: {String.to_charlist(script_dir), mod}

    dirs = picked |> Enum.map(&elem(&1, 0)) |> Enum.uniq()
    path = boot_path ++ (dirs -- boot_path)
    before = List.replace_at(before, -1, {:path, path})

    batches = picked |> Enum.map(&elem(&1, 1)) |> Enum.chunk_every(@batch)
    loads = for batch <- batches, do: {:primLoad, batch}
    script = {:script, name, before ++ [{:primLoad, first} | loads] ++ rest}

    File.write!(out, :erlang.term_to_binary(script))
    length(picked)
  end

  defp app_dir(stage, app) do
    case Path.wildcard(Path.join(stage, "lib/#{app}-*")) do
      [dir] -> Path.relative_to(dir, stage)
      _ -> nil
    end
  end

  # Protocols stay lazy: the function package's consolidated versions
  # (earlier on the code path) must be the ones loaded. Modules with
  # @on_load (LambdaRuntime.Native) are fine: init runs on_load functions
  # once the code server is up.
  defp preloadable?(beam) do
    {:ok, {_, [exports: exports]}} = :beam_lib.chunks(String.to_charlist(beam), [:exports])
    {:__protocol__, 1} not in exports
  end
end
