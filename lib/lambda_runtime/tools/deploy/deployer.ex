defmodule LambdaRuntime.Tools.Deploy.Deployer do
  @moduledoc """
  Deploys a function package: CreateFunction when GetFunction says 404,
  else UpdateFunctionCode then UpdateFunctionConfiguration, waiting for
  each change to finish; then, on request, PublishVersion and an alias
  (created, or moved to the new version).
  """

  alias LambdaRuntime.AWS.Error
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.{Connection, Waiter}
  alias LambdaRuntime.Tools.Settings

  @type result :: %{
          function_arn: String.t(),
          code_size: non_neg_integer() | nil,
          created: boolean(),
          version: String.t() | nil,
          alias_arn: String.t() | nil
        }

  @doc """
  Deploys `zip` (the bytes; `:unbuilt` in a dry run that built nothing)
  with `config`, whose `:layers` must already start with the runtime layer
  and whose `:architecture` is settled. Options: `:publish` (boolean),
  `:alias`.
  """
  @spec deploy(Connection.t(), Settings.t(), binary() | :unbuilt, keyword()) ::
          {:ok, result()} | {:error, Error.t()}
  def deploy(%Connection{dry_run: true} = conn, config, zip, opts) do
    name = config.function_name
    Connection.plan(conn, Lambda.get_function(name))
    Connection.plan(conn, Lambda.create_function(config, zip), "if it does not exist")

    Connection.plan(
      conn,
      Lambda.update_function_code(name, zip, config.architecture),
      "if it exists"
    )

    Connection.plan(conn, Lambda.update_function_configuration(config), "if it exists")

    Connection.plan(
      conn,
      Lambda.get_function_configuration(name),
      "after each change, until LastUpdateStatus is Successful"
    )

    if publish?(opts) do
      Connection.plan(conn, Lambda.publish_version(name, nil))
    end

    if alias_name = opts[:alias] do
      Connection.plan(conn, Lambda.get_alias(name, alias_name))

      Connection.plan(
        conn,
        Lambda.create_alias(name, alias_name, "<new>"),
        "if it does not exist"
      )

      Connection.plan(conn, Lambda.update_alias(name, alias_name, "<new>"), "if it exists")
    end

    {:ok,
     %{
       function_arn: "<function #{name}>",
       code_size: if(is_binary(zip), do: byte_size(zip)),
       created: false,
       version: nil,
       alias_arn: nil
     }}
  end

  def deploy(%Connection{} = conn, config, zip, opts) do
    name = config.function_name

    with {:ok, created, _} <- create_or_update(conn, config, zip),
         {:ok, final} <- Waiter.wait(conn, name),
         {:ok, version} <- maybe_publish(conn, name, final, opts),
         {:ok, alias_arn} <- maybe_alias(conn, name, version, opts[:alias]) do
      {:ok,
       %{
         function_arn: final["FunctionArn"],
         code_size: final["CodeSize"] || byte_size(zip),
         created: created,
         version: version,
         alias_arn: alias_arn
       }}
    end
  end

  defp publish?(opts), do: opts[:publish] == true or opts[:alias] != nil

  defp create_or_update(conn, config, zip) do
    name = config.function_name

    case Connection.call(conn, Lambda.get_function(name)) do
      {:ok, _, _} ->
        Mix.shell().info("Updating function #{name}")

        with {:ok, _, _} <-
               Connection.call(conn, Lambda.update_function_code(name, zip, config.architecture)),
             {:ok, _} <- Waiter.wait(conn, name),
             {:ok, _, body} <- Connection.call(conn, Lambda.update_function_configuration(config)) do
          {:ok, false, body}
        end

      {:error, %Error{status: 404}} ->
        create(conn, config, zip)

      {:error, _} = error ->
        error
    end
  end

  defp create(conn, %{role: nil} = config, _zip) do
    _ = conn

    {:error,
     Error.new(
       "MissingRole",
       "function #{config.function_name} does not exist yet, and creating it needs a role",
       "set lambda: [role: \"arn:aws:iam::ACCOUNT:role/NAME\"] in mix.exs or pass --role"
     )}
  end

  defp create(conn, config, zip) do
    Mix.shell().info("Creating function #{config.function_name}")

    with {:ok, _, body} <- Connection.call(conn, Lambda.create_function(config, zip)) do
      {:ok, true, body}
    end
  end

  defp maybe_publish(conn, name, final, opts) do
    if publish?(opts) do
      request = Lambda.publish_version(name, final["CodeSha256"])

      with {:ok, _, body} <- Connection.call(conn, request) do
        Mix.shell().info("Published version #{body["Version"]}")
        {:ok, body["Version"]}
      end
    else
      {:ok, nil}
    end
  end

  defp maybe_alias(_conn, _name, _version, nil), do: {:ok, nil}

  defp maybe_alias(conn, name, version, alias_name) do
    request =
      case Connection.call(conn, Lambda.get_alias(name, alias_name)) do
        {:ok, _, _} -> {:ok, Lambda.update_alias(name, alias_name, version)}
        {:error, %Error{status: 404}} -> {:ok, Lambda.create_alias(name, alias_name, version)}
        {:error, _} = error -> error
      end

    with {:ok, request} <- request,
         {:ok, _, body} <- Connection.call(conn, request) do
      Mix.shell().info("Alias #{alias_name} -> version #{version}")
      {:ok, body["AliasArn"]}
    end
  end
end
