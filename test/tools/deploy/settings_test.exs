defmodule LambdaRuntime.Tools.SettingsTest do
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Settings

  @role "arn:aws:iam::123456789012:role/hello"
  @layer "arn:aws:lambda:eu-west-1:123456789012:layer:extra:3"

  defp load(lambda, flags \\ []), do: Settings.load([lambda: lambda], flags, :hello)

  test "defaults, and the app name as the function name" do
    assert {:ok, config} = load(handler: "Hello.handle")

    # No architecture: the runtime layer's manifest decides (x86_64 without one).
    assert %Settings{
             function_name: "hello",
             memory_size: 512,
             timeout: 30,
             architecture: nil,
             environment: %{},
             layers: [],
             layer_name: "elixir-runtime"
           } = config
  end

  test "every key is read, and flags override them" do
    lambda = [
      function_name: "greeter",
      handler: "Hello.handle",
      role: @role,
      memory_size: 256,
      timeout: 10,
      architecture: :arm64,
      environment: %{GREETING: "hi", MODE: "prod"},
      layers: [@layer],
      description: "hello",
      region: "eu-west-1"
    ]

    assert {:ok, config} = load(lambda)
    assert config.architecture == "arm64"
    assert config.environment == %{"GREETING" => "hi", "MODE" => "prod"}

    flags = [
      memory_size: 1024,
      region: "us-east-2",
      env: "MODE=test",
      env: "NEW=1",
      layer: @layer
    ]

    assert {:ok, config} = load(lambda, flags)
    assert {config.memory_size, config.region} == {1024, "us-east-2"}
    assert config.environment == %{"GREETING" => "hi", "MODE" => "test", "NEW" => "1"}
    assert config.function_name == "greeter"
  end

  test "unknown keys and bad values are rejected with a sentence naming the key" do
    assert {:error, message} = load(handler: "H.h", memory: 512)
    assert message =~ "unknown key :memory in the lambda: config of mix.exs"
    assert message =~ ":memory_size"

    for {key, value, fragment} <- [
          {:memory_size, 64, "memory_size must be an integer number of MB from 128 to 10240"},
          {:timeout, "30", "timeout must be an integer number of seconds from 1 to 900"},
          {:architecture, "arm", ~s(architecture must be "x86_64" or "arm64")},
          {:role, "hello-role", "role must be an IAM role ARN"},
          {:environment, %{"A" => 1}, "environment must be a map of names"},
          {:environment, %{"1A" => "x"}, "environment must be a map of names"},
          {:layers, ["extra"], "layers must be a list of layer version ARNs"},
          {:function_name, "has space", "function_name must be 1-64 letters"},
          {:region, "moon", "region must be an AWS region name"},
          {:description, String.duplicate("x", 300),
           "description must be a string of at most 256"},
          {:layer_arn, "arn:nope", "layer_arn must be a layer version ARN"}
        ] do
      assert {:error, message} = load([{:handler, "H.h"}, {key, value}])
      assert message =~ fragment
    end

    assert {:error, "layers: at most 4 extra layers" <> _} =
             load(handler: "H.h", layers: List.duplicate(@layer, 5))

    assert {:error, message} = Settings.load([lambda: :oops], [], :hello)
    assert message =~ "must be a keyword list"
    assert {:error, "--env takes NAME=VALUE" <> _} = load([handler: "H.h"], env: "novalue")
  end

  test "the deploy task needs a handler" do
    assert {:ok, config} = load([])
    assert {:error, message} = Settings.require_handler(config)
    assert message =~ "handler is required"
  end

  @tag :tmp_dir
  test "mix lambda.deploy reads the lambda: key of the project's mix.exs", %{tmp_dir: dir} do
    File.write!(Path.join(dir, "mix.exs"), """
    defmodule DeployConfigFixture.MixProject do
      use Mix.Project

      def project do
        [app: :fixture, version: "0.1.0",
         lambda: [handler: "Fixture.handle", memory_size: 1024, bogus: true]]
      end
    end
    """)

    Mix.Project.in_project(:fixture, dir, fn _ ->
      error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(["--dry-run"]) end
      assert error.message =~ "unknown key :bogus in the lambda: config of mix.exs"
    end)
  end

  test "bad flags are refused with a helpful sentence" do
    error =
      assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(["--memory-size", "lots"]) end

    assert error.message =~ "--memory-size"
    assert error.message =~ "mix help lambda.deploy"

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(["extra"]) end
    assert error.message =~ ~s(takes no arguments, got "extra")

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Layer.Publish.run(["--zap"]) end
    assert error.message =~ "--zap"
  end
end
