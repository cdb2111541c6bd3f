defmodule LambdaRuntime.Tools.NewOptionsTest do
  # mix lambda.new's flags turned into LambdaRuntime.Tools.New's options
  # (lambda_new_test.exs generates and builds whole projects).
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.New

  test "the kind and the dependency from the flags" do
    assert New.options([]) == {:ok, [kind: :basic, app: nil, module: nil, dep: nil]}
    assert {:ok, [kind: :http] ++ _} = New.options(http: true)
    assert {:ok, [kind: :sqs] ++ _} = New.options(sqs: true, app: "q")
    assert {:ok, opts} = New.options(dep: "github:me/lambda_runtime", module: "My.Fn")
    assert opts[:dep] == {:github, "me/lambda_runtime"} and opts[:module] == "My.Fn"
    assert {:ok, [kind: :basic, app: nil, module: nil, dep: :hex]} = New.options(dep: "hex")
    assert {:ok, opts} = New.options(dep: "path:../lr")
    assert opts[:dep] == {:path, "../lr"}
  end

  test "contradictions and unknown dependency forms are refused" do
    assert New.options(http: true, sqs: true) == {:error, "choose one of --http and --sqs"}

    assert New.options(dep: "svn:x") ==
             {:error, ~s(--dep "svn:x": use path:DIR, github:OWNER/REPO or hex)}

    assert {:error, _} = New.options(dep: "path:")
  end
end
