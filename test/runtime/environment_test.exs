defmodule LambdaRuntime.EnvironmentTest do
  # LambdaRuntime.Config is the one runtime module that reads environment
  # variables: the settings it reads at start, env/1 for later reads, and
  # a scan of the runtime's sources for any other reader.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Config
  alias LambdaRuntime.Tools.Layer.Builder

  describe "from_env/1, the runtime's own settings" do
    test "LAMBDA_RUNTIME_SHUTDOWN_MS: a non-negative integer, else the default (nil)" do
      for {text, expected} <- [
            {"300", 300},
            {" 450 ", 450},
            {"0", 0},
            {"+20", 20},
            {"-1", nil},
            {"3s", nil},
            {"", nil}
          ] do
        assert Config.from_env(%{"LAMBDA_RUNTIME_SHUTDOWN_MS" => text}).shutdown_ms == expected,
               "for #{inspect(text)}"
      end

      assert Config.from_env(%{}).shutdown_ms == nil
    end

    test "LAMBDA_METRICS_COLD_START: true or 1 ask for the ColdStart metric" do
      for text <- ["true", "1", " TRUE "],
          do: assert(Config.from_env(%{"LAMBDA_METRICS_COLD_START" => text}).metrics_cold_start)

      for text <- ["false", "0", "yes", ""],
          do: refute(Config.from_env(%{"LAMBDA_METRICS_COLD_START" => text}).metrics_cold_start)

      refute Config.from_env(%{}).metrics_cold_start
    end
  end

  describe "env/1" do
    test "a variable's value; nil when unset or blank" do
      name = "LAMBDA_RUNTIME_ENV_TEST_#{System.unique_integer([:positive])}"
      assert Config.env(name) == nil

      try do
        System.put_env(name, "  ")
        assert Config.env(name) == nil
        System.put_env(name, "Service=orders, Stage=prod")
        assert Config.env(name) == "Service=orders, Stage=prod"
        System.put_env(name, "é")
        assert Config.env(name) == "é"
      after
        System.delete_env(name)
      end
    end
  end

  # What reads the environment (Config's own reads are these, too).
  @readers ~r/System\.(get_env|fetch_env!?)\b|:os\.(getenv|list_env_vars)\b/

  test "no runtime module but LambdaRuntime.Config reads the environment" do
    lib = Path.expand("lib")

    readers =
      for module <- Application.spec(:lambda_runtime, :modules),
          not Builder.tooling?(module),
          source = to_string(module.module_info(:compile)[:source]),
          String.starts_with?(source, lib <> "/"),
          Regex.match?(@readers, File.read!(source)),
          uniq: true,
          do: Path.relative_to(source, File.cwd!())

    assert readers == ["lib/lambda_runtime/config.ex"],
           "read the environment through LambdaRuntime.Config, not in: " <>
             Enum.join(readers -- ["lib/lambda_runtime/config.ex"], ", ")
  end
end
