defmodule LambdaRuntime.Tools.Deploy.Preflight do
  @moduledoc """
  The checks a deploy makes before it uploads anything, so that a deploy
  that cannot work stops before the 9 MB layer goes up:

    * the credentials work and the function's state is known: GetFunction
      (a read) is the first request; a 403 (`InvalidClientTokenId`, a bad
      signature, an expired token) stops the deploy there, and so do a
      missing role when the function does not exist yet and must be
      created, and `durable:` settings for an existing function that is
      not durable (Lambda enables that only at creation) (`function/2`);
    * the handler exists in the package being deployed: its module's beam
      is in the function zip, and exports the function (arity 2 or 1), or
      `handle_event/3` for a `Module` handler (`handler/2`).

  The region is resolved before any of this (`LambdaRuntime.Tools.Deploy.Connection`),
  and the runtime layer's architecture is checked against the function's
  by `LambdaRuntime.Tools.Deploy.RuntimeLayer`.

  A dry run sends nothing and reads no credentials' secrets; instead it
  prints a warning for each check the real run would fail
  (`dry_run_warnings/3`): no role for a function that may have to be
  created, credentials that do not resolve, a handler missing from the
  named zip (or, when the zip is not built, from the project's compiled
  beams).
  """

  alias LambdaRuntime.AWS.{Credentials, Error}
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.{Connection}
  alias LambdaRuntime.Tools.Settings
  alias LambdaRuntime.HandlerRef

  @doc """
  GetFunction: `{:ok, :exists}` or `{:ok, :missing}` (404), or the error
  that stops the deploy: AWS's (bad credentials, no access), or
  `MissingRole` when the function must be created and no role is set.
  """
  @spec function(Connection.t(), Settings.t()) :: {:ok, :exists | :missing} | {:error, Error.t()}
  def function(%Connection{dry_run: false} = conn, %Settings{} = config) do
    case Connection.call(conn, Lambda.get_function(config.function_name)) do
      {:ok, _, body} ->
        if config.durable && not durable?(body),
          do: {:error, not_durable(config)},
          else: {:ok, :exists}

      {:error, %Error{status: 404}} ->
        if config.role, do: {:ok, :missing}, else: {:error, missing_role(config)}

      {:error, _} = error ->
        error
    end
  end

  defp durable?(%{"Configuration" => %{"DurableConfig" => %{}}}), do: true
  defp durable?(_), do: false

  @doc "The error for durable settings on an existing plain function."
  @spec not_durable(Settings.t()) :: Error.t()
  def not_durable(config) do
    Error.new(
      "NotDurable",
      "function #{config.function_name} exists and is not a durable function; Lambda " <>
        "enables durable execution only when it creates a function, so nothing was uploaded",
      "deploy it under a new function_name, or delete the function first " <>
        "(aws lambda delete-function --function-name #{config.function_name})"
    )
  end

  @doc "The error for a function that must be created without a role."
  @spec missing_role(Settings.t()) :: Error.t()
  def missing_role(config) do
    Error.new(
      "MissingRole",
      "function #{config.function_name} does not exist yet, and creating it needs a role; " <>
        "nothing was uploaded",
      "set lambda: [role: \"arn:aws:iam::ACCOUNT:role/NAME\"] in mix.exs or pass --role"
    )
  end

  @doc """
  Checks that `handler` (a `_HANDLER` string) is in the function zip
  `zip` (its bytes). `:ok` or `{:error, message}`.
  """
  @spec handler(binary(), String.t()) :: :ok | {:error, String.t()}
  def handler(zip, handler) when is_binary(zip) do
    with {:ok, module, function} <- parse(handler),
         {:ok, beams} <- beams(zip) do
      case Map.fetch(beams, module) do
        {:ok, beam} ->
          check_exports(handler, module, function, exports(beam))

        :error ->
          {:error,
           "the handler #{handler} cannot work: module #{module} is not in the function " <>
             "package (it has #{module_list(Map.keys(beams))}); check the handler (--handler, " <>
             "lambda: [handler: ...]) and that the module is compiled into the project"}
      end
    end
  end

  @doc """
  The same check against compiled beams in `ebin_dirs` (a dry run that does
  not build the zip looks at the project's build). `:ok`, `{:error,
  message}`, or `:unknown` when nothing is compiled there.
  """
  @spec handler_in_build([Path.t()], String.t()) :: :ok | :unknown | {:error, String.t()}
  def handler_in_build(ebin_dirs, handler) do
    with {:ok, module, function} <- parse(handler) do
      case Enum.find_value(ebin_dirs, &beam_file(&1, module)) do
        nil when ebin_dirs == [] ->
          :unknown

        nil ->
          {:error,
           "the handler #{handler} cannot work: module #{module} is not compiled in this project"}

        path ->
          check_exports(handler, module, function, exports(File.read!(path)))
      end
    end
  end

  @doc """
  The warnings of a dry run: where the real deploy would stop. `zip` is
  the function zip's bytes, or `:unbuilt`; `ebin_dirs` the project's
  compiled `ebin` directories (for an unbuilt zip); `env` the environment
  credentials are looked for in.
  """
  @spec dry_run_warnings(Settings.t(), binary() | :unbuilt, keyword()) :: [String.t()]
  def dry_run_warnings(%Settings{} = config, zip, opts) do
    handler =
      case zip do
        :unbuilt -> handler_in_build(Keyword.get(opts, :ebin_dirs, []), config.handler)
        zip -> handler(zip, config.handler)
      end

    credentials =
      case Credentials.locate(Keyword.get(opts, :env, %{}), profile: opts[:profile]) do
        {:ok, _source} -> :ok
        {:error, error} -> {:error, "credentials: " <> Exception.message(error)}
      end

    role =
      if config.role,
        do: :ok,
        else:
          {:error,
           "no role is set: if function #{config.function_name} does not exist, the deploy " <>
             "stops before uploading anything (set lambda: [role: ...] or pass --role)"}

    for {:error, message} <- [handler, credentials, role], do: message
  end

  defp parse(handler) do
    case HandlerRef.parse(handler) do
      {:ok, module, function} ->
        {:ok, module, function}

      {:error, report} ->
        {:error, "the handler #{inspect(handler)} is invalid: #{report.message}"}
    end
  end

  # Module name ("Hello.World") => beam bytes, for lib/*/ebin/Elixir.*.beam.
  defp beams(zip) do
    case :zip.unzip(zip, [:memory, file_filter: &elixir_beam?/1]) do
      {:ok, files} ->
        {:ok,
         Map.new(files, fn {name, bytes} ->
           {name |> to_string() |> Path.basename(".beam") |> String.replace_prefix("Elixir.", ""),
            bytes}
         end)}

      {:error, reason} ->
        {:error, "the function zip cannot be read: #{inspect(reason)}"}
    end
  end

  defp elixir_beam?({:zip_file, name, _, _, _, _}) do
    case Path.split(to_string(name)) do
      ["lib", _app, "ebin", "Elixir." <> _ = file] -> String.ends_with?(file, ".beam")
      _ -> false
    end
  end

  defp beam_file(dir, module) do
    path = Path.join(dir, "Elixir.#{module}.beam")
    if File.regular?(path), do: path
  end

  defp exports(beam) do
    case :beam_lib.chunks(beam, [:exports]) do
      {:ok, {_, [exports: exports]}} -> exports
      {:error, _, _} -> :unreadable
    end
  end

  defp check_exports(handler, module, _function, :unreadable),
    do: {:error, "the handler #{handler}: the beam of #{module} cannot be read"}

  defp check_exports(handler, module, nil, exports) do
    if {:handle_event, 3} in exports,
      do: :ok,
      else:
        {:error,
         "the handler #{handler} cannot work: #{module} does not implement " <>
           "LambdaRuntime.Handler (no handle_event/3); use #{module}.function_name, " <>
           "or `use LambdaRuntime.Handler`"}
  end

  defp check_exports(handler, module, function, exports) do
    name = String.to_atom(function)

    if {name, 2} in exports or {name, 1} in exports do
      :ok
    else
      available =
        for({f, a} <- exports, a in [1, 2], f not in [:__info__, :module_info], do: "#{f}/#{a}")

      {:error,
       "the handler #{handler} cannot work: #{module}.#{function}/2 (or /1) is not exported " <>
         "by the packaged module; it exports " <>
         if(available == [], do: "no functions of arity 1 or 2", else: Enum.join(available, ", "))}
    end
  end

  defp module_list([]), do: "no Elixir modules"

  defp module_list(modules) do
    shown = modules |> Enum.sort() |> Enum.take(10)
    more = length(modules) - length(shown)
    Enum.join(shown, ", ") <> if(more > 0, do: " and #{more} more", else: "")
  end
end
