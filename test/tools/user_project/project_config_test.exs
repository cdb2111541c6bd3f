defmodule LambdaRuntime.UserProject.ProjectConfigTest do
  # What a first user hits (issue 14), in a project of their own that
  # depends on lambda_runtime by path, driven through the Mix tasks in
  # their own VMs: config/config.exs and config/runtime.exs reach the
  # handler the same way in `mix lambda.invoke`, the packaged function and
  # LambdaRuntime.Test (#14.1, #14.2), Logger's configuration and
  # AWS_LAMBDA_LOG_LEVEL (#14.2, #14.6), and the one validation of the
  # lambda: key (#14.4).
  use ExUnit.Case, async: true

  @moduletag :user_project
  @moduletag timeout: 600_000

  @root LambdaRuntime.TestSupport.Paths.root()
  @layer_arn "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:1"

  setup_all do
    dir = Path.join(System.tmp_dir!(), "lambda_first_user_#{System.unique_integer([:positive])}")
    File.rm_rf!(dir)
    for sub <- ["lib", "config", "test"], do: File.mkdir_p!(Path.join(dir, sub))
    on_exit(fn -> File.rm_rf!(dir) end)

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule Tally.MixProject do
      use Mix.Project

      def project do
        [
          app: :tally,
          version: "0.1.0",
          elixir: "~> 1.14",
          deps: [{:lambda_runtime, path: #{inspect(@root)}}],
          lambda: lambda()
        ]
      end

      def application, do: [extra_applications: [:logger]]

      # The tests vary the lambda: key through this variable.
      defp lambda do
        case System.get_env("TALLY_LAMBDA") do
          nil -> [handler: "Tally.handle", function_name: "tally", region: "us-east-1"]
          text -> text |> Code.eval_string() |> elem(0)
        end
      end
    end
    """)

    File.write!(Path.join(dir, "config/config.exs"), """
    import Config
    config :tally, greeting: "from config.exs", table: "unset"
    config :logger, level: :warning
    """)

    File.write!(Path.join(dir, "config/runtime.exs"), """
    import Config
    config :tally, table: System.fetch_env!("TALLY_TABLE")
    """)

    File.write!(Path.join(dir, "lib/tally.ex"), """
    defmodule Tally do
      require Logger

      # Busy far longer than the test waits.
      def slow(_event, _context) do
        File.write!(System.fetch_env!("TALLY_MARKER"), "busy")
        Process.sleep(600_000)
      end

      def handle(_event, _context) do
        Logger.info("an info line")
        Logger.warning("a warning line")

        {:ok,
         %{
           "greeting" => Application.get_env(:tally, :greeting),
           "table" => Application.get_env(:tally, :table)
         }}
      end
    end
    """)

    File.write!(Path.join(dir, "test/test_helper.exs"), "ExUnit.start()\n")

    File.write!(Path.join(dir, "test/tally_test.exs"), """
    defmodule TallyTest do
      use ExUnit.Case

      test "LambdaRuntime.Test sees config.exs and runtime.exs" do
        assert {:ok, %{"greeting" => "from config.exs", "table" => "t-test"}} =
                 LambdaRuntime.Test.invoke("Tally.handle", %{})
      end
    end
    """)

    {output, status} = mix(dir, ["compile"])
    assert status == 0, output
    %{project: dir}
  end

  describe "#14.1 #14.2 config.exs and runtime.exs" do
    test "mix lambda.invoke applies both, with the function's environment", %{project: dir} do
      {output, status} = mix(dir, ["lambda.invoke", "--env", "TALLY_TABLE=t-invoke"])
      assert status == 0, output
      assert output =~ ~s("greeting": "from config.exs")
      assert output =~ ~s("table": "t-invoke")
    end

    test "the packaged function applies the same", %{project: dir} do
      {output, status} = mix(dir, ["lambda.package"])
      assert status == 0, output
      refute output =~ "not run on Lambda"
      refute output =~ "is not applied"

      # The package, unpacked as /var/task, with this build of the runtime
      # next to it (on Lambda the layer holds it).
      task = Path.join(dir, "task")
      File.rm_rf!(task)

      {:ok, _} =
        :zip.extract(to_charlist(Path.join(dir, "_build/lambda/tally.zip")),
          cwd: to_charlist(task)
        )

      assert File.regular?(Path.join(task, "lambda_runtime/config.beam"))

      File.ln_s!(
        Path.join(dir, "_build/prod/lib/lambda_runtime"),
        Path.join(task, "lib/lambda_runtime")
      )

      {output, status} =
        mix(dir, ["lambda.invoke", "--task-root", task, "--env", "TALLY_TABLE=t-package"])

      assert status == 0, output
      assert output =~ ~s("greeting": "from config.exs")
      assert output =~ ~s("table": "t-package")
    end

    test "LambdaRuntime.Test in the project's own mix test", %{project: dir} do
      {output, status} = mix(dir, ["test"], %{"MIX_ENV" => "test", "TALLY_TABLE" => "t-test"})
      assert status == 0, output
      assert output =~ "1 test, 0 failures"
    end

    test "a runtime.exs that raises fails the cold start: Runtime.ConfigError", %{project: dir} do
      {output, status} = mix(dir, ["lambda.invoke"])
      assert status != 0
      assert output =~ "** (Runtime.ConfigError) config/runtime.exs failed: System.EnvError"
      assert output =~ "TALLY_TABLE"
    end
  end

  describe "#14.2 #14.6 Logger's configuration and AWS_LAMBDA_LOG_LEVEL" do
    test "config :logger applies; AWS_LAMBDA_LOG_LEVEL wins; a bad one is named", %{project: dir} do
      {output, 0} = mix(dir, ["lambda.invoke", "--env", "TALLY_TABLE=t"])
      assert output =~ "a warning line"
      refute output =~ "an info line"

      {output, 0} =
        mix(dir, [
          "lambda.invoke",
          "--env",
          "TALLY_TABLE=t",
          "--env",
          "AWS_LAMBDA_LOG_LEVEL=debug"
        ])

      assert output =~ "an info line"

      {output, 0} =
        mix(dir, ["lambda.invoke", "--env", "TALLY_TABLE=t", "--env", "AWS_LAMBDA_LOG_LEVEL=LOUD"])

      assert [_] = Regex.scan(~r/AWS_LAMBDA_LOG_LEVEL="LOUD" is not a log level/, output)
      assert output =~ "accepted values: TRACE, DEBUG, INFO, WARN, ERROR, FATAL"
      refute output =~ "an info line"
    end
  end

  describe "#14.4 one validation of the lambda: key, in every task" do
    for {lambda, expected} <- [
          {~s([hanlder: "Tally.handle"]),
           "unknown key :hanlder in the lambda: config of mix.exs (did you mean :handler?)"},
          {~s([handler: "Tally.handle", memory_size: "512"]),
           ~s(memory_size must be an integer number of MB from 128 to 10240; got "512")},
          {~s([handler: "Tally.handle", timeout: 0]),
           "timeout must be an integer number of seconds from 1 to 900; got 0"},
          {~s([handler: "Tally.handle", timeout: 1000]),
           "timeout must be an integer number of seconds from 1 to 900; got 1000"}
        ] do
      test "#{lambda}", %{project: dir} do
        env = %{"TALLY_LAMBDA" => unquote(lambda)}
        {invoke, status} = mix(dir, ["lambda.invoke", "--env", "TALLY_TABLE=t"], env)
        assert status != 0
        assert invoke =~ unquote(expected)

        {deploy, status} =
          mix(dir, ["lambda.deploy", "--dry-run", "--layer-arn", @layer_arn], env)

        assert status != 0
        assert deploy =~ unquote(expected)
      end
    end
  end

  describe "#14.5 interrupting mix lambda.invoke ends the runtime OS process" do
    for signal <- ["TERM", "KILL"] do
      @tag :tmp_dir
      test "SIG#{signal} to mix", %{project: dir, tmp_dir: tmp} do
        marker = Path.join(tmp, "busy")

        args =
          ~w(lambda.invoke --handler Tally.slow --timeout 900 --env TALLY_TABLE=t) ++
            ["--env", "TALLY_MARKER=" <> marker]

        port =
          Port.open({:spawn_executable, System.find_executable("mix")}, [
            :binary,
            :exit_status,
            :stderr_to_stdout,
            args: args,
            cd: dir,
            env:
              for(
                {k, v} <- mix_env(%{}),
                do: {to_charlist(k), if(v, do: to_charlist(v), else: false)}
              )
          ])

        {:os_pid, mix_pid} = Port.info(port, :os_pid)
        # The function's log is printed after the invocation; the handler
        # says it is busy through this file instead.
        await_file(port, marker)
        [runtime] = runtime_pids(dir)

        System.cmd("kill", ["-#{unquote(signal)}", to_string(mix_pid)])
        assert_receive {^port, {:exit_status, _}}, 30_000

        # The runtime's handler would sleep on for ten minutes; the process
        # is gone (or a zombie waiting to be reaped) once mix is.
        LambdaRuntime.TestSupport.Wait.until(fn -> not alive?(runtime) end,
          timeout: 20_000,
          interval: 100,
          message: "the runtime (pid #{runtime}) outlived mix lambda.invoke"
        )
      end
    end
  end

  defp await_file(port, path, tries \\ 1200) do
    receive do
      {^port, {:exit_status, status}} -> flunk("mix exited (#{status}) before #{path} appeared")
    after
      100 ->
        cond do
          File.exists?(path) -> :ok
          tries == 0 -> flunk("#{path} never appeared")
          true -> await_file(port, path, tries - 1)
        end
    end
  end

  # The runtime VMs started for this project (their code path names it).
  defp runtime_pids(dir) do
    for entry <- File.ls!("/proc"),
        Regex.match?(~r/^\d+$/, entry),
        {:ok, cmdline} <- [File.read("/proc/#{entry}/cmdline")],
        cmdline =~ "LambdaRuntime.Bootstrap" and cmdline =~ dir,
        alive?(entry),
        do: entry
  end

  defp alive?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} -> not (stat |> String.split(") ") |> List.last() |> String.starts_with?("Z"))
      {:error, _} -> false
    end
  end

  # `mix` in its own VM, MIX_ENV=prod, no AWS settings of this machine's.
  defp mix(dir, args, env \\ %{}) do
    System.cmd("mix", args, cd: dir, env: Enum.to_list(mix_env(env)), stderr_to_stdout: true)
  end

  defp mix_env(env) do
    Map.merge(
      %{
        "MIX_ENV" => "prod",
        "MIX_BUILD_ROOT" => nil,
        "MIX_BUILD_PATH" => nil,
        "PATH" => LambdaRuntime.TestSupport.Fixture.path(),
        "AWS_PROFILE" => nil,
        "AWS_ENDPOINT_URL" => nil,
        "AWS_ENDPOINT_URL_LAMBDA" => nil,
        "AWS_ACCESS_KEY_ID" => nil,
        "AWS_SECRET_ACCESS_KEY" => nil,
        "AWS_SESSION_TOKEN" => nil,
        "TALLY_LAMBDA" => nil,
        "TALLY_TABLE" => nil
      },
      env
    )
  end
end
