defmodule LambdaRuntime.AppConfigTest do
  # config/config.exs and config/runtime.exs, compiled as mix lambda.package
  # compiles them (Package.AppConfig) and applied as a cold start applies
  # them (AppConfig), here in the test VM.
  use ExUnit.Case, async: false

  alias LambdaRuntime.AppConfig
  alias LambdaRuntime.Tools.Package.AppConfig, as: Build

  @moduletag :tmp_dir

  setup %{tmp_dir: dir} do
    on_exit(fn ->
      :code.delete(AppConfig.module())
      :code.purge(AppConfig.module())
      System.delete_env("APP_CONFIG_TEST_TABLE")
      Application.delete_env(:app_config_test, :table)
      Application.delete_env(:app_config_test, :greeting)
      Application.delete_env(:app_config_test, :repo)
    end)

    File.mkdir_p!(Path.join(dir, "config"))
    %{config: Path.join(dir, "config/config.exs"), runtime: Path.join(dir, "config/runtime.exs")}
  end

  defp build!(dir, opts) do
    assert {:ok, beam} = Build.build(Keyword.merge([env: :prod, target: :host], opts))
    path = Path.join(dir, AppConfig.relative_path())
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, beam)
    dir
  end

  describe "#14.2 config/runtime.exs at cold start" do
    test "runs with the environment of the moment, deep-merged over config.exs", ctx do
      File.write!(ctx.config, """
      import Config
      config :app_config_test, greeting: "hi", repo: [pool: 2, url: "build"]
      import_config "\#{config_env()}.exs"
      """)

      File.write!(Path.join(ctx.tmp_dir, "config/prod.exs"), """
      import Config
      config :app_config_test, repo: [ssl: true]
      """)

      File.write!(ctx.runtime, """
      import Config

      if config_env() == :prod do
        config :app_config_test, :repo, url: System.fetch_env!("APP_CONFIG_TEST_TABLE")
        config :app_config_test, table: System.get_env("APP_CONFIG_TEST_TABLE"), target: config_target()
      end
      """)

      root = build!(ctx.tmp_dir, config_path: ctx.config, runtime_path: ctx.runtime)

      # Built before the variable exists: read at load time, not build time.
      System.put_env("APP_CONFIG_TEST_TABLE", "orders")
      assert {:ok, config} = AppConfig.load(root)

      assert config[:app_config_test][:greeting] == "hi"
      assert config[:app_config_test][:table] == "orders"
      assert config[:app_config_test][:target] == :host
      assert Enum.sort(config[:app_config_test][:repo]) == [pool: 2, ssl: true, url: "orders"]

      AppConfig.apply_config(config)
      assert Application.get_env(:app_config_test, :table) == "orders"
    end

    test "a runtime.exs that raises is a Runtime.ConfigError naming the file", ctx do
      File.write!(ctx.runtime, """
      import Config
      config :app_config_test, table: System.fetch_env!("APP_CONFIG_TEST_TABLE")
      """)

      root = build!(ctx.tmp_dir, runtime_path: ctx.runtime)
      assert {:error, report} = AppConfig.load(root)
      assert report.type == "Runtime.ConfigError"
      assert report.message =~ "runtime.exs failed: System.EnvError"
      assert report.message =~ "APP_CONFIG_TEST_TABLE"
    end

    test "Mix, import_config and syntax errors are refused when the package is built", ctx do
      File.write!(ctx.runtime, "import Config\nconfig :a, env: Mix.env()\n")
      assert {:error, message} = Build.build(runtime_path: ctx.runtime, env: :prod)
      assert message =~ "runtime.exs:2: runtime.exs uses Mix"
      assert message =~ "config_env/0"

      File.write!(ctx.runtime, "import Config\nimport_config \"other.exs\"\n")
      assert {:error, message} = Build.build(runtime_path: ctx.runtime, env: :prod)
      assert message =~ "runtime.exs:2: runtime.exs calls import_config/1, which is not available"

      File.write!(ctx.runtime, "import Config\nconfig :a, b: \n")
      assert {:error, message} = Build.build(runtime_path: ctx.runtime, env: :prod)
      assert message =~ "runtime.exs:"
    end

    test "no package file, no configuration" do
      assert AppConfig.load("/nonexistent") == :none
    end
  end
end
