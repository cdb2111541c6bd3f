defmodule LambdaRuntime.Tools.Layer.Contents do
  @moduledoc """
  What goes into the layer, taken from the build machine's own Erlang and
  Elixir installation: which ERTS executables, which applications, and which
  files of each application.

  * ERTS: `beam.smp`, `erlexec`, `erl_child_setup`, `inet_gethost`.
  * `bin/no_dot_erlang.boot`: the boot script `bootstrap` names; it lists
    only kernel and stdlib modules (by `$ROOT/lib/APP-VSN/ebin` paths).
  * Applications (`@apps`): their `.app` file and the beams it lists
    (a beam that its own `.app` does not list is not part of the
    application: for asn1 that drops the ASN.1 compiler and keeps the
    `asn1rt_nif` runtime), and their `priv/` native libraries.
  * Nothing else: no `include/`, `src/`, `doc/`, `examples/`, man pages,
    tools, `start.boot`, or `epmd` (the runtime never starts distribution).
  * Minus the modules that cannot do anything inside a Lambda function
    (`not_on_lambda/0`, ~0.36 MB zipped): the interactive shell, Erlang
    distribution, SCTP, the HTTP, TFTP and DTLS servers and connections, and
    the compiler's listings. None of them is loaded by booting the runtime,
    starting ssl and inets, a TLS handshake, an httpc request or compiling
    a module at run time (test/tools/portable/layer_test.exs does all of
    that in the layer). An application's `.app` lists only the modules the
    layer holds.
  """

  @erts_bins ~w(beam.smp erlexec erl_child_setup inet_gethost)
  # Started at boot: kernel, stdlib, elixir, logger (and compiler, which
  # Elixir needs to compile code at run time). Present but never started
  # unless a function asks for them: crypto, public_key, asn1, ssl, inets.
  @apps ~w(kernel stdlib compiler elixir logger crypto public_key asn1 ssl inets)a
  # priv/ files that are build or test leftovers, never loaded at run time.
  @priv_skip ~r{(^|/)(obj|src|include)/|\.(c|h|mk|o|a)$|(^|/)Makefile$|otp_test_engine|runcgi\.sh$}

  # {app, modules, why} or {app, modules, why, otp_below: N} (only for an
  # OTP release below N): the modules named, or {:prefixes, [prefix],
  # keep} for every module whose name starts with one of them, but those in
  # keep and the supervisors (the applications start their supervisors
  # whether or not a server is configured: ssl's dtls_sup, inets' httpd_sup).
  @not_on_lambda [
    # OTP 26+ starts user_drv and group even with -noinput, and group calls
    # edlin and shell; OTP 25 starts the plain `user` process instead.
    {:stdlib, ~w(edlin edlin_expand shell)a,
     "the line editor and shell (OTP 25 starts neither with -noinput)", otp_below: 26},
    {:stdlib, ~w(shell_default shell_docs)a, "the shell's commands and its docs renderer"},
    {:stdlib, ~w(erl_compile escript)a, "erlc's and escript's drivers"},
    {:stdlib, ~w(slave pool)a, "starting other nodes and balancing over them"},
    {:stdlib, [:win32reg], "the Windows registry"},
    {:kernel, ~w(auth dist_ac dist_util erl_boot_server erl_epmd inet_tcp_dist inet6_tcp_dist)a,
     "Erlang distribution (no epmd in the layer, no inbound connections on Lambda)"},
    {:kernel, ~w(gen_sctp inet_sctp inet6_sctp)a, "SCTP sockets"},
    {:compiler, ~w(beam_disasm beam_listing beam_ssa_pp core_pp core_scan core_parse)a,
     "listings and Core Erlang input, options no run-time compile uses"},
    {:compiler, [:v3_kernel_pp], "Kernel Erlang listings (a pass OTP 26 replaced)",
     otp_below: 26},
    {:inets, {:prefixes, ~w(httpd mod_ tftp), []}, "the HTTP and TFTP servers"},
    # ssl:versions/0 and the cipher-suite lists read dtls_record and dtls_v1.
    {:ssl, {:prefixes, ~w(dtls_), ~w(dtls_record dtls_v1)a}, "DTLS (TLS over UDP) sockets"},
    {:ssl, ~w(inet_tls_dist inet6_tls_dist ssl_dist_sup ssl_dist_admin_sup ssl_dist_connection_sup
        tls_dist_sup tls_dist_server_sup)a, "Erlang distribution over TLS"}
  ]

  @doc "The applications copied from the installation."
  def apps, do: @apps

  @doc """
  What the layer leaves out of the applications it holds with OTP release
  `otp` (this installation's by default), as `{app, modules |
  {:prefixes, prefixes, kept}, why}` (see the moduledoc).
  """
  @spec not_on_lambda(pos_integer()) :: [{atom(), term(), String.t()}]
  def not_on_lambda(otp \\ String.to_integer(otp_release())) do
    for entry <- @not_on_lambda, rule = applies(entry, otp), do: rule
  end

  defp applies({app, modules, why, otp_below: below}, otp),
    do: if(otp < below, do: {app, modules, why})

  defp applies({_app, _modules, _why} = rule, _otp), do: rule

  @doc """
  Whether module `mod` of `app` (its beam in `ebin`) is one of
  `not_on_lambda/1`'s for OTP release `otp` (this installation's by
  default).
  """
  @spec not_on_lambda?(atom(), Path.t(), atom(), pos_integer()) :: boolean()
  def not_on_lambda?(app, ebin, mod, otp \\ String.to_integer(otp_release())) do
    Enum.any?(not_on_lambda(otp), fn
      {^app, {:prefixes, prefixes, keep}, _} ->
        String.starts_with?(Atom.to_string(mod), prefixes) and mod not in keep and
          not supervisor?(Path.join(ebin, "#{mod}.beam"))

      {^app, modules, _} when is_list(modules) ->
        mod in modules

      _ ->
        false
    end)
  end

  defp supervisor?(beam) do
    case :beam_lib.chunks(String.to_charlist(beam), [:attributes]) do
      {:ok, {_, [attributes: attrs]}} ->
        :supervisor in List.flatten(
          Keyword.get_values(attrs, :behaviour) ++ Keyword.get_values(attrs, :behavior)
        )

      _ ->
        false
    end
  end

  @doc "The ERTS directory of the running VM, e.g. `/usr/lib/erlang/erts-13.1.5`."
  def erts_dir, do: Path.join(root_dir(), "erts-#{:erlang.system_info(:version)}")

  @doc "The ERTS executables the layer holds, as `{source, layer_path}`."
  def erts_files do
    dir = erts_dir()
    rel = "erts-#{:erlang.system_info(:version)}/bin"
    for bin <- @erts_bins, do: {Path.join([dir, "bin", bin]), Path.join(rel, bin)}
  end

  @doc "The boot file, as `{source, layer_path}`."
  def boot_file do
    {Path.join(root_dir(), "bin/no_dot_erlang.boot"), "bin/no_dot_erlang.boot"}
  end

  @doc """
  The installed directory and version of an application. Elixir >= 1.15
  prunes the code path inside Mix to the project's own applications;
  `LambdaRuntime.OTPApps` puts the one asked for back.
  """
  @spec app_source(atom()) :: {Path.t(), String.t()}
  def app_source(app) do
    case LambdaRuntime.OTPApps.lib_dir(app) do
      {:ok, dir} ->
        {dir, app_vsn(Path.join([dir, "ebin", "#{app}.app"]))}

      :error ->
        Mix.raise(
          "the #{app} application is not installed in #{root_dir()}; " <>
            "the layer needs it (on Debian: apt-get install erlang-nox)"
        )
    end
  end

  @doc """
  The files of the application in `dir` that belong in the layer, as
  `{source, path_relative_to_the_app_dir}`. `exclude` is a function that
  says which module names (atoms) to leave out.
  """
  @spec app_files(Path.t(), atom(), (atom() -> boolean())) :: [{Path.t(), String.t()}]
  def app_files(dir, app, exclude \\ fn _ -> false end) do
    app_file = Path.join([dir, "ebin", "#{app}.app"])

    beams =
      for mod <- app_modules(app_file),
          not exclude.(mod),
          path = Path.join([dir, "ebin", "#{mod}.beam"]),
          File.regular?(path),
          do: {path, "ebin/#{mod}.beam"}

    priv =
      for path <- Path.wildcard(Path.join(dir, "priv/**")),
          File.regular?(path),
          rel = Path.relative_to(path, dir),
          not Regex.match?(@priv_skip, rel),
          not String.contains?(Path.basename(rel), ".tmp"),
          do: {path, rel}

    [{app_file, "ebin/#{app}.app"} | beams] ++ priv
  end

  @doc "The `modules` list of an `.app` file."
  def app_modules(app_file) do
    {:ok, [{:application, _, props}]} = :file.consult(app_file)
    Keyword.get(props, :modules, [])
  end

  @doc "The `vsn` of an `.app` file."
  def app_vsn(app_file) do
    {:ok, [{:application, _, props}]} = :file.consult(app_file)
    props |> Keyword.fetch!(:vsn) |> to_string()
  end

  @doc "The OTP release of the installation (e.g. `\"25\"`)."
  def otp_release, do: :erlang.system_info(:otp_release) |> to_string()

  defp root_dir, do: :code.root_dir() |> to_string()
end
