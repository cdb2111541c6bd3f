defmodule LambdaRuntime.Tools.New.Templates do
  @moduledoc """
  The files of a generated project that do not depend much on its kind:
  `mix.exs` (with the `lambda:` settings), `.formatter.exs`, `.gitignore`,
  `config/config.exs`, `config/runtime.exs`, `test/test_helper.exs`, the
  AWS SAM template and the README.
  """

  alias LambdaRuntime.Tools.New

  @doc "`[{relative_path, content}]`."
  def files(%New{} = p) do
    [
      {"mix.exs", mix_exs(p)},
      {".formatter.exs", formatter()},
      {".gitignore", gitignore(p)},
      {"config/config.exs", config_exs(p)},
      {"config/runtime.exs", runtime_exs(p)},
      {"test/test_helper.exs", "ExUnit.start()\n"},
      {"template.yaml", sam(p)},
      {"README.md", readme(p)}
    ]
  end

  defp function_name(p), do: String.replace(p.app, "_", "-")

  defp mix_exs(p) do
    """
    defmodule #{p.module}.MixProject do
      use Mix.Project

      def project do
        [
          app: :#{p.app},
          version: "0.1.0",
          elixir: "~> 1.14",
          start_permanent: Mix.env() == :prod,
          deps: deps(),
          # What the lambda.* tasks (invoke, package, deploy, doctor) read;
          # `mix help lambda.deploy` lists every key.
          lambda: [
            function_name: "#{function_name(p)}",
            handler: "#{p.module}.handle",
            memory_size: 512,
            timeout: 30,
            # Needed by `mix lambda.deploy` to create the function:
            # role: "arn:aws:iam::123456789012:role/#{function_name(p)}-lambda",
            # region: "eu-west-1",
            environment: %{"LAMBDA_METRICS_NAMESPACE" => "#{function_name(p)}"}
          ]
        ]
      end

      def application do
        [extra_applications: [:logger]]
      end

      defp deps do
        [
          #{p.dep}
        ]
      end
    end
    """
  end

  defp formatter do
    """
    [
      inputs: ["{mix,.formatter}.exs", "{config,lib,test}/**/*.{ex,exs}"]
    ]
    """
  end

  defp gitignore(p) do
    """
    /_build/
    /deps/
    /cover/
    erl_crash.dump
    #{p.app}-*.tar
    /tmp/
    """
  end

  defp config_exs(p) do
    """
    import Config

    # Compile-time configuration: `mix lambda.package` writes it into the
    # function package (the application's env), so it holds on Lambda too.
    config :#{p.app}, greeting: "Hello"
    """
  end

  defp runtime_exs(p) do
    """
    import Config

    # Configuration read from the function's environment when it starts
    # (on Lambda: the variables of `lambda: [environment: ...]` in mix.exs,
    # or of the SAM template). The handler falls back to config.exs's value.
    if greeting = System.get_env("GREETING") do
      config :#{p.app}, greeting: greeting
    end
    """
  end

  defp sam(p) do
    """
    # AWS SAM template for #{p.app}: the Elixir runtime layer and the function.
    #
    # Build both zips, then deploy (the paths are relative to this file):
    #   MIX_ENV=prod mix lambda.layer     # _build/lambda/layer-x86_64.zip
    #   MIX_ENV=prod mix lambda.package   # _build/lambda/#{p.app}.zip
    #   sam deploy --template-file template.yaml --stack-name #{function_name(p)} \\
    #     --resolve-s3 --capabilities CAPABILITY_IAM
    # (or skip SAM: MIX_ENV=prod mix lambda.deploy)
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Description: #{p.app} on the Elixir runtime for AWS Lambda (provided.al2023)

    # For Graviton: build the layer with --arch arm64, and use arm64 and
    # layer-arm64.zip below.
    Resources:
      ElixirRuntimeLayer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          LayerName: elixir-runtime
          Description: Elixir lambda_runtime (ERTS, OTP, Elixir, the runtime)
          ContentUri: _build/lambda/layer-x86_64.zip
          CompatibleRuntimes:
            - provided.al2023
          CompatibleArchitectures:
            - x86_64
          RetentionPolicy: Retain
    #{sam_extra_resources(p)}
      Function:
        Type: AWS::Serverless::Function
        Properties:
          FunctionName: #{function_name(p)}
          CodeUri: _build/lambda/#{p.app}.zip
          Handler: #{p.module}.handle
          Runtime: provided.al2023
          Architectures:
            - x86_64
          MemorySize: 512
          Timeout: 30
          Layers:
            - !Ref ElixirRuntimeLayer
          Environment:
            Variables:
              LAMBDA_METRICS_NAMESPACE: #{function_name(p)}
    #{sam_events(p)}
    Outputs:
      FunctionArn:
        Value: !GetAtt Function.Arn
    #{sam_outputs(p)}\
    """
  end

  defp sam_extra_resources(%{kind: :sqs}) do
    """

      Queue:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 180
    """
  end

  defp sam_extra_resources(_), do: ""

  defp sam_events(%{kind: :http}) do
    """
          Events:
            Hello:
              Type: HttpApi
              Properties:
                Path: /hello
                Method: GET
    """
  end

  defp sam_events(%{kind: :sqs}) do
    """
          Events:
            Messages:
              Type: SQS
              Properties:
                Queue: !GetAtt Queue.Arn
                BatchSize: 10
                FunctionResponseTypes:
                  - ReportBatchItemFailures
    """
  end

  defp sam_events(_), do: ""

  defp sam_outputs(%{kind: :http}) do
    """
      Url:
        Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/hello"
    """
  end

  defp sam_outputs(%{kind: :sqs}) do
    """
      QueueUrl:
        Value: !Ref Queue
    """
  end

  defp sam_outputs(_), do: ""

  defp readme(p) do
    """
    # #{p.module}

    An AWS Lambda function in Elixir, on the `provided.al2023` runtime with
    [lambda_runtime](https://github.com/lambda-runtime-ex/lambda_runtime).
    #{LambdaRuntime.Tools.New.Handlers.description(p)}

    ## The three commands

    ```sh
    mix test                                      # the handler's tests (LambdaRuntime.Test)
    mix lambda.invoke --event events/event.json   # run it as Lambda does, on this machine
    MIX_ENV=prod mix lambda.deploy                # package, publish the runtime layer, create or update the function
    ```

    `mix lambda.doctor` says what will and will not work before you deploy
    (Elixir/OTP, the layer's tool chain, credentials, region, role), with
    the fix for each problem.

    ## Files

    * `lib/#{p.app}.ex`: the handler (`_HANDLER` is `#{p.module}.handle`)
    * `test/#{p.app}_test.exs`: its tests, with the runtime's own invocation path
    * `events/event.json`: a sample event (`mix lambda.sample` lists more)
    * `mix.exs`: the `lambda:` settings (handler, memory, timeout, role, region, environment)
    * `config/config.exs`: compile-time configuration, packaged with the function;
      `config/runtime.exs`: configuration read from the environment at start
    * `template.yaml`: the same function as an AWS SAM template

    ## Deploying

    `MIX_ENV=prod mix lambda.deploy` needs an execution role (`role:` in
    `mix.exs`) and AWS credentials, found as the AWS CLI finds them. It
    builds the function zip (`MIX_ENV=prod mix lambda.package`,
    `_build/lambda/#{p.app}.zip`) and the runtime layer
    (`MIX_ENV=prod mix lambda.layer`, which compiles ERTS with zig: `pip
    install ziglang`). `--dry-run` shows every request without sending one.
    """
  end
end
