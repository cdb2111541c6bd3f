defmodule LambdaRuntime.ConfigTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Config

  test "reads every setting Lambda provides" do
    env = %{
      "AWS_LAMBDA_RUNTIME_API" => "127.0.0.1:9001",
      "_HANDLER" => "Hello.handle",
      "AWS_LAMBDA_FUNCTION_NAME" => "hello",
      "AWS_LAMBDA_FUNCTION_VERSION" => "$LATEST",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "512",
      "AWS_LAMBDA_LOG_GROUP_NAME" => "/aws/lambda/hello",
      "AWS_LAMBDA_LOG_STREAM_NAME" => "2026/11/27/[$LATEST]abc",
      "UNRELATED" => "x"
    }

    assert Config.from_env(env) == %Config{
             runtime_api: "127.0.0.1:9001",
             handler: "Hello.handle",
             function_name: "hello",
             function_version: "$LATEST",
             memory_limit_in_mb: 512,
             log_group_name: "/aws/lambda/hello",
             log_stream_name: "2026/11/27/[$LATEST]abc"
           }
  end

  test "an empty environment gives nils" do
    assert Config.from_env(%{}) == %Config{}
  end

  test "the API address and handler are trimmed; blank means unset" do
    config = Config.from_env(%{"AWS_LAMBDA_RUNTIME_API" => " 127.0.0.1:1 \n", "_HANDLER" => "  "})
    assert config.runtime_api == "127.0.0.1:1"
    assert config.handler == nil
  end

  test "a memory size that is not a positive integer is nil" do
    for bad <- ["", "abc", "0", "-5", "512MB", "1.5"] do
      assert Config.from_env(%{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => bad}).memory_limit_in_mb ==
               nil,
             "for #{inspect(bad)}"
    end

    assert Config.from_env(%{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => " 128 "}).memory_limit_in_mb ==
             128
  end

  test "log format, log level and managed-instance concurrency" do
    config =
      Config.from_env(%{
        "AWS_LAMBDA_LOG_FORMAT" => " JSON ",
        "AWS_LAMBDA_LOG_LEVEL" => "DEBUG",
        "AWS_LAMBDA_MAX_CONCURRENCY" => "8"
      })

    assert {config.log_format, config.log_level, config.max_concurrency} == {"JSON", "DEBUG", 8}

    config =
      Config.from_env(%{
        "AWS_LAMBDA_LOG_FORMAT" => "",
        "AWS_LAMBDA_LOG_LEVEL" => "  ",
        "AWS_LAMBDA_MAX_CONCURRENCY" => "0"
      })

    assert {config.log_format, config.log_level, config.max_concurrency} == {nil, nil, nil}
  end

  test "LAMBDA_RUNTIME_REGISTER_EXTENSION turns the extension on only when true" do
    for {value, expected} <- [
          {nil, false},
          {"", false},
          {"no", false},
          {"1", false},
          {"true", true},
          {" TRUE\n", true},
          {"True", true}
        ] do
      env = if value, do: %{"LAMBDA_RUNTIME_REGISTER_EXTENSION" => value}, else: %{}

      assert Config.from_env(env).register_extension == expected,
             "for #{inspect(value)}"
    end
  end

  test "values are trimmed of Unicode whitespace too, and integers take an optional sign" do
    config =
      Config.from_env(%{
        "_HANDLER" => "\u00A0\tHello.handle\u2003\r\n",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "+256"
      })

    assert {config.handler, config.memory_limit_in_mb} == {"Hello.handle", 256}
  end

  test "AWS_LAMBDA_MAX_CONCURRENCY is read as bootstrap.sh reads it: digits only, at most 1000" do
    for {value, expected} <- [
          {"8", 8},
          {"0008", 8},
          {"1000", 1000},
          {"5000", 1000},
          {"99999999999999999999", 1000},
          {"0", nil},
          {" 8", nil},
          {"8 ", nil},
          {"+8", nil},
          {"eight", nil},
          {"", nil}
        ] do
      assert Config.from_env(%{"AWS_LAMBDA_MAX_CONCURRENCY" => value}).max_concurrency ==
               expected,
             "for #{inspect(value)}"
    end
  end

  test "os_env/0 is the OS environment, as System.get_env/0 gives it" do
    System.put_env("LAMBDA_RUNTIME_OS_ENV_TEST", "a=b=c \u00e9")
    assert Config.os_env() == System.get_env()
    assert Config.os_env()["LAMBDA_RUNTIME_OS_ENV_TEST"] == "a=b=c \u00e9"
  after
    System.delete_env("LAMBDA_RUNTIME_OS_ENV_TEST")
  end

  test "reads the OS environment by default" do
    System.put_env("AWS_LAMBDA_LOG_STREAM_NAME", "from-os-env-#{System.unique_integer()}")
    expected = System.get_env("AWS_LAMBDA_LOG_STREAM_NAME")
    assert Config.from_env().log_stream_name == expected
  after
    System.delete_env("AWS_LAMBDA_LOG_STREAM_NAME")
  end
end
