defmodule LambdaRuntime.TestSupport.CargoLambda do
  @moduledoc """
  cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`)
  on a free loopback port, for end-to-end tests.

      emu = CargoLambda.start!()
      runtime = RuntimeProcess.start!(emu, "Hello.handle")
      {200, body} = CargoLambda.invoke(emu, ~s({"name":"Ada"}))
      CargoLambda.stop(emu)
  """

  alias LambdaRuntime.TestSupport.{HTTPServer, Paths, Wait}

  defstruct [:port, :os_pid, :http_port]

  @root Paths.root()
  @cargo_lambda Path.join(@root, ".venv/bin/cargo-lambda")
  @project Paths.fixture("cargo_lambda_project")

  @doc "Starts the emulator and waits until it accepts connections."
  def start!(opts \\ []) do
    unless File.exists?(@cargo_lambda) do
      raise "cargo-lambda is not installed at #{@cargo_lambda}; run scripts/setup.sh"
    end

    http_port = HTTPServer.free_port()
    extra = Keyword.get(opts, :args, [])

    args =
      ["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", to_string(http_port)] ++
        extra

    port =
      Port.open({:spawn_executable, @cargo_lambda}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: args,
        cd: @project,
        env: [
          {~c"PATH",
           String.to_charlist(Path.dirname(@cargo_lambda) <> ":" <> System.get_env("PATH"))}
        ]
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    emu = %__MODULE__{port: port, os_pid: os_pid, http_port: http_port}
    wait_until_listening(http_port)
    emu
  end

  @doc "The value to give the runtime as `AWS_LAMBDA_RUNTIME_API`."
  def runtime_api(%__MODULE__{http_port: p}), do: "http://127.0.0.1:#{p}/.rt"

  @doc "Invokes the function synchronously; returns `{status, body}`."
  def invoke(%__MODULE__{http_port: p}, body, timeout \\ 30_000) do
    {:ok, _} = Application.ensure_all_started(:inets)
    url = ~c"http://127.0.0.1:#{p}/2015-03-31/functions/_/invocations"

    {:ok, {{_, status, _}, _headers, resp}} =
      :httpc.request(:post, {url, [], ~c"application/json", body}, [timeout: timeout],
        body_format: :binary
      )

    {status, resp}
  end

  @doc "Stops the emulator."
  def stop(%__MODULE__{port: port, os_pid: os_pid}),
    do: LambdaRuntime.TestSupport.OsProcess.terminate(port, os_pid)

  defp wait_until_listening(port) do
    Wait.until(
      fn ->
        case :gen_tcp.connect({127, 0, 0, 1}, port, [], 100) do
          {:ok, socket} -> :gen_tcp.close(socket)
          {:error, _} -> false
        end
      end,
      timeout: 30_000,
      interval: 50,
      message: "the emulator did not start listening on #{port}"
    )
  end
end
