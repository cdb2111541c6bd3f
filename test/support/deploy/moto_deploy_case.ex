defmodule LambdaRuntime.TestSupport.MotoDeployCase do
  @moduledoc """
  The set-up of the tests that run the deploy tasks in-process against
  moto_server on 127.0.0.1 (`LambdaRuntime.TestSupport.Moto`): one server
  per module, emptied before each test; the AWS variables pointing at it
  (with a secret key the tests look for in output, `@secret`); no polling
  waits or retry back-off; Mix's shell captured; an IAM role, a runtime
  layer zip and a function zip in the test's tmp dir (`ctx.role`,
  `ctx.layer_zip`, `ctx.fun_zip`).

      use LambdaRuntime.TestSupport.MotoDeployCase

  The module is synchronous (it sets environment variables) and tagged
  `:moto` and `:tmp_dir`; the helpers below are imported.
  """

  use ExUnit.CaseTemplate

  import ExUnit.Assertions

  alias LambdaRuntime.AWS.Request
  alias LambdaRuntime.TestSupport.{LayerZips, Moto}
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.TestSupport.MixShell

  @secret "s3cr3t-Never-Print-Me-8f2b"

  using do
    quote do
      import LambdaRuntime.TestSupport.MotoDeployCase,
        only: [
          deploy: 1,
          base_args: 1,
          output: 0,
          get_function: 2,
          functions: 1,
          layer_versions: 1,
          layer_versions: 2,
          assert_nothing_uploaded: 1
        ]

      alias LambdaRuntime.TestSupport.{LayerZips, Moto}

      @moduletag :moto
      @moduletag :tmp_dir
      @secret unquote(@secret)
    end
  end

  setup_all do
    moto = Moto.start!()
    on_exit(fn -> Moto.stop(moto) end)
    %{moto_server: moto}
  end

  setup %{moto_server: moto, tmp_dir: dir} do
    Moto.reset!(moto)

    restore =
      Moto.put_env(
        Map.merge(Moto.env(moto), %{
          "AWS_SECRET_ACCESS_KEY" => @secret,
          "AWS_SESSION_TOKEN" => nil,
          "AWS_PROFILE" => nil,
          "AWS_ENDPOINT_URL_LAMBDA" => nil,
          "AWS_DEFAULT_REGION" => nil,
          "AWS_CONFIG_FILE" => Path.join(dir, "none"),
          "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
        })
      )

    Application.put_env(:lambda_runtime, :deploy_poll_ms, 0)
    Application.put_env(:lambda_runtime, :aws_backoff_ms, [])
    Mix.shell(Mix.Shell.Process)

    on_exit(fn ->
      restore.()
      Mix.shell(Mix.Shell.IO)
    end)

    role = Moto.create_role!(moto, "hello-role")
    layer_zip = Path.join(dir, "layer.zip")
    LayerZips.write!(layer_zip, "x86_64")
    fun_zip = Path.join(dir, "function.zip")
    Moto.handler_zip!(fun_zip)
    %{role: role, layer_zip: layer_zip, fun_zip: fun_zip}
  end

  @doc "Runs `mix lambda.deploy` with `args` in this VM."
  def deploy(args), do: Mix.Tasks.Lambda.Deploy.run(args)

  @doc "The arguments of a deploy of function `hello` with the set-up's role and zips."
  def base_args(ctx) do
    [
      "--function-name",
      "hello",
      "--handler",
      "Hello.handle",
      "--role",
      ctx.role,
      "--zip",
      ctx.fun_zip,
      "--layer-zip",
      ctx.layer_zip
    ]
  end

  @doc "What the tasks printed since the last call, one line each."
  defdelegate output, to: MixShell

  @doc "GetFunction of `name`, read back from moto."
  def get_function(moto, name) do
    {:ok, 200, body} = Moto.lambda!(moto, Lambda.get_function(name))
    body
  end

  @doc "Every function moto holds."
  def functions(moto) do
    {:ok, 200, %{"Functions" => functions}} =
      Moto.lambda!(moto, %Request{
        operation: "ListFunctions",
        method: "GET",
        path: "/2015-03-31/functions/"
      })

    functions
  end

  @doc "The versions of layer `name` moto holds."
  def layer_versions(moto, name \\ "elixir-runtime") do
    {:ok, 200, %{"LayerVersions" => versions}} =
      Moto.lambda!(moto, Lambda.list_layer_versions(name))

    versions
  end

  @doc "Asserts that moto holds no function and no layer version."
  def assert_nothing_uploaded(moto) do
    assert functions(moto) == []
    assert layer_versions(moto) == []
  end
end
