defmodule LambdaRuntime.Tools.Deploy.Doctor.Remote do
  @moduledoc """
  The doctor's checks of the AWS side: where credentials come from (never
  what they are), the region and endpoint, the execution role; with
  `online: true`, the function as Lambda has it (GetFunction): whether it
  exists (a new one needs the role), its architecture, and whether the
  credentials are accepted.
  """

  alias LambdaRuntime.AWS.{Credentials, Endpoint, Error}
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.Connection
  alias LambdaRuntime.Tools.Deploy.Doctor.Check

  @doc "The checks; `ctx` as built by `LambdaRuntime.Tools.Deploy.Doctor.run/1`."
  def checks(ctx) do
    aws_opts = [region: ctx.config && ctx.config.region, profile: ctx.profile]
    creds = credentials(ctx.env, aws_opts)
    region = region(ctx.env, aws_opts)

    function =
      if ctx.online and ctx.config && creds.status == :ok and region.status == :ok,
        do: function(ctx, aws_opts),
        else: nil

    [creds, region, role(ctx, function)] ++ List.wrap(function && function.check)
  end

  defp credentials(env, opts) do
    case Credentials.resolve(env, opts) do
      {:ok, creds} -> Check.ok("credentials", "from #{creds.source}")
      {:error, %Error{} = e} -> Check.error("credentials", e.message, e.hint)
    end
  end

  defp region(env, opts) do
    case Endpoint.resolve("lambda", env, opts) do
      {:ok, endpoint} ->
        port = if endpoint.uri.port in [nil, 80, 443], do: "", else: ":#{endpoint.uri.port}"

        Check.ok(
          "region",
          "#{endpoint.region}, Lambda at #{endpoint.uri.scheme}://#{endpoint.uri.host}#{port}"
        )

      {:error, %Error{} = e} ->
        Check.error("region", e.message, e.hint)
    end
  end

  defp role(%{config: nil}, _function),
    do: Check.info("role", "not checked (the lambda: config has errors)")

  defp role(%{config: %{role: role}}, function) when is_binary(role) do
    case function do
      %{exists: true, role: current} when current != role ->
        Check.warn(
          "role",
          "#{role}; the function has #{current}, and the deploy changes it",
          "check that this is the role you want"
        )

      _ ->
        Check.ok("role", role)
    end
  end

  defp role(_ctx, %{exists: true, role: current}),
    do: Check.ok("role", "not set, and not needed: the function exists (its role: #{current})")

  defp role(ctx, %{exists: false}) do
    Check.error(
      "role",
      "not set, and the function #{ctx.config.function_name} does not exist yet: creating it needs an execution role",
      role_fix(ctx)
    )
  end

  defp role(ctx, _unknown) do
    Check.warn(
      "role",
      "not set: creating the function needs one (updating an existing function does not); --online checks which",
      role_fix(ctx)
    )
  end

  defp role_fix(ctx) do
    name = ctx.config.function_name

    ~s(set lambda: [role: "arn:aws:iam::ACCOUNT:role/#{name}-lambda"] in mix.exs; ) <>
      "the README's Deploying section shows how to create the role"
  end

  defp function(ctx, aws_opts) do
    name = ctx.config.function_name

    with {:ok, conn} <- Connection.open(aws_opts ++ [env: ctx.env, backoff_ms: 0]),
         {:ok, status, body} <- Connection.call(conn, Lambda.get_function(name)) do
      case status do
        200 ->
          config = body["Configuration"] || %{}
          [arch | _] = config["Architectures"] || ["x86_64"]
          %{exists: true, role: config["Role"], check: function_arch(ctx, name, arch)}

        404 ->
          %{
            exists: false,
            check: Check.info("function", "#{name} does not exist yet: the deploy creates it")
          }
      end
    else
      {:error, %Error{code: "ResourceNotFoundException"}} ->
        %{
          exists: false,
          check: Check.info("function", "#{name} does not exist yet: the deploy creates it")
        }

      {:error, %Error{} = e} ->
        %{
          exists: nil,
          check:
            Check.error(
              "function",
              "GetFunction #{name}: #{e.code}: #{e.message}",
              e.hint || "check the credentials and the region"
            )
        }
    end
  end

  defp function_arch(ctx, name, arch) do
    wanted = ctx.config.architecture

    if wanted && wanted != arch,
      do: Check.info("function", "#{name} exists (#{arch}); the deploy moves it to #{wanted}"),
      else: Check.ok("function", "#{name} exists (#{arch})")
  end
end
