defmodule Mix.Tasks.Lambda.NewTest do
  # `mix lambda.new` as a new user runs it, on a machine without Rust: the
  # generated projects (each kind) are formatted, compile, pass their own
  # tests and answer `mix lambda.invoke`; the basic one also packages; the
  # SAM templates pass cfn-lint. Every `mix` here runs in its own VM with
  # cargo and rustc off PATH, so the runtime's NIF must come precompiled.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.New

  @moduletag :user_project
  @moduletag timeout: 600_000
  @moduletag :tmp_dir

  @root LambdaRuntime.TestSupport.Paths.root()

  test "each kind of project: format, tests, invoke; package; SAM template", %{tmp_dir: dir} do
    env = no_rust_env()

    for {name, flags} <- [{"hello", []}, {"orders_api", ["--http"]}, {"orders_queue", ["--sqs"]}] do
      path = Path.join(dir, name)
      output = ExUnit.CaptureIO.capture_io(fn -> Mix.Tasks.Lambda.New.run([path | flags]) end)
      assert output =~ "* creating #{path}/lib/#{name}.ex"
      assert output =~ "mix lambda.invoke --event events/event.json"

      assert {_, 0} = mix(path, ["format", "--check-formatted"], env)
      {output, status} = mix(path, ["test"], Map.put(env, "MIX_ENV", "test"))
      assert status == 0, output
      assert output =~ ~r/\d+ tests, 0 failures/

      # The basic project as the README says (dev); the others reuse the
      # test build to spare two compiles of the runtime.
      invoke_env = if name == "hello", do: env, else: Map.put(env, "MIX_ENV", "test")
      {output, status} = mix(path, ["lambda.invoke", "--event", "events/event.json"], invoke_env)
      assert status == 0, output

      case name do
        "hello" ->
          assert output =~ ~s("message": "Hello, Ada!")

        "orders_api" ->
          assert output =~ ~s("statusCode": 200)

        "orders_queue" ->
          assert output =~ ~s("itemIdentifier": "00000000-0000-4000-8000-000000000002")
      end

      assert {"", 0} =
               System.cmd(Path.join(@root, ".venv/bin/cfn-lint"), [
                 Path.join(path, "template.yaml")
               ])
    end

    hello = Path.join(dir, "hello")
    {output, status} = mix(hello, ["lambda.package"], Map.put(env, "MIX_ENV", "prod"))
    assert status == 0, output

    {:ok, entries} =
      :zip.list_dir(String.to_charlist(Path.join(hello, "_build/lambda/hello.zip")))

    names = for {:zip_file, name, _, _, _, _} <- entries, do: to_string(name)
    assert "lib/hello/ebin/Elixir.Hello.beam" in names

    # The doctor, without AWS settings: the handler is fine, credentials
    # and region are not, and the exit status says a deploy would fail.
    no_aws = %{
      "AWS_CONFIG_FILE" => Path.join(dir, "none"),
      "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none"),
      "AWS_ACCESS_KEY_ID" => nil,
      "AWS_SECRET_ACCESS_KEY" => nil,
      "AWS_REGION" => nil,
      "AWS_DEFAULT_REGION" => nil,
      "AWS_PROFILE" => nil
    }

    {output, status} = mix(hello, ["lambda.doctor"], Map.merge(env, no_aws))
    assert status == 1, output
    assert output =~ ~r/ok +handler +Hello.handle: Hello.handle\/2/
    assert output =~ ~r/ok +NIF +precompiled/
    assert output =~ ~r/ERROR +credentials +no AWS credentials found/
    assert output =~ "would stop a deploy"
  end

  test "files, names and refusals" do
    {:ok, p} = New.new("/tmp/x/shop_orders", kind: :sqs, dep: {:github, "o/r"})
    assert {p.app, p.module} == {"shop_orders", "ShopOrders"}
    files = Map.new(New.files(p))

    assert Map.keys(files) |> Enum.sort() ==
             ~w(.formatter.exs .gitignore README.md config/config.exs config/runtime.exs
                events/event.json lib/shop_orders.ex mix.exs template.yaml
                test/shop_orders_test.exs test/test_helper.exs)

    assert files["mix.exs"] =~ ~s({:lambda_runtime, github: "o/r"})
    assert files["mix.exs"] =~ ~s(handler: "ShopOrders.handle")
    assert files["template.yaml"] =~ "ReportBatchItemFailures"
    assert files["README.md"] =~ "mix lambda.invoke --event events/event.json"
    assert LambdaRuntime.JSON.decode!(files["events/event.json"])["Records"]

    assert {:error, message} = New.new("/tmp/x/Bad-Name", [])
    assert message =~ ~s("Bad-Name" is not a valid application name)
    assert {:error, message} = New.new("/tmp/x/ok", module: "not.a.module")
    assert message =~ "not a valid module name"
    assert {:error, _} = New.new("/tmp/x/lambda_runtime", [])

    {:ok, p} = New.new("/tmp/x/h", dep: {:path, "/some/where"})
    assert Map.new(New.files(p))["mix.exs"] =~ ~s({:lambda_runtime, path: "/some/where"})
  end

  test "refuses a directory that is not empty, and bad options", %{tmp_dir: dir} do
    File.write!(Path.join(dir, "keep.txt"), "mine")

    assert_raise Mix.Error,
                 ~r/exists and is not empty; choose another path, or pass --force/,
                 fn ->
                   Mix.Tasks.Lambda.New.run([dir, "--app", "hello"])
                 end

    assert_raise Mix.Error, ~r/choose one of --http and --sqs/, fn ->
      Mix.Tasks.Lambda.New.run([dir, "--http", "--sqs"])
    end

    assert_raise Mix.Error, ~r/--dep "svn:x"/, fn ->
      Mix.Tasks.Lambda.New.run([dir, "--dep", "svn:x"])
    end

    assert_raise Mix.Error, ~r/unknown option --nope; run `mix help lambda.new`/, fn ->
      Mix.Tasks.Lambda.New.run([dir, "--nope"])
    end
  end

  # `mix` in its own VM: cargo and rustc are not on PATH, nor this VM's
  # erts-*/bin (it would lead mix to the wrong Erlang root).
  defp no_rust_env do
    path =
      LambdaRuntime.TestSupport.Fixture.path()
      |> String.split(":")
      |> Enum.reject(
        &(File.exists?(Path.join(&1, "cargo")) or File.exists?(Path.join(&1, "rustc")))
      )
      |> Enum.join(":")

    for tool <- ["cargo", "rustc"],
        do: assert(System.find_executable(tool) == nil or not on_path?(tool, path))

    %{
      "PATH" => path,
      "MIX_ENV" => "dev",
      "CARGO" => nil,
      "MIX_BUILD_ROOT" => nil,
      "MIX_BUILD_PATH" => nil
    }
  end

  defp on_path?(tool, path),
    do: Enum.any?(String.split(path, ":"), &File.exists?(Path.join(&1, tool)))

  defp mix(dir, args, env),
    do: System.cmd("mix", args, cd: dir, env: Enum.to_list(env), stderr_to_stdout: true)
end
