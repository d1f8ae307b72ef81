// The built-in steps of the LLM-twin training pipeline, each run inside a
// `twinflow step TYPE` process (see step_dispatch.h):
//
//   dataset   an author's cleaned documents -> instruct or preference JSONL
//             (train/test split), with the built-in generator or an
//             OpenAI-compatible LLM
//   finetune  instruct dataset -> model directory, with the built-in CPU
//             trainer (tasks/train/) or any program (`trainer: {command}`)
//   evaluate  candidate model vs the production one on the same test split,
//             registers the candidate, decides the gate
//   deploy    promotes the candidate to production when the gate passed
//
// docs/STEPS.md lists their params, outputs and metrics.
#pragma once

#include "tasks/steps/data_steps.h"

namespace twinflow {

int run_dataset_step(StepEnvironment& env);
int run_finetune_step(StepEnvironment& env);
int run_evaluate_step(StepEnvironment& env);
int run_deploy_step(StepEnvironment& env);

// Reads a dataset directory's split (train.jsonl or test.jsonl) as training
// texts (instruct_format.h); shared by finetune and evaluate.
std::vector<std::string> instruct_texts(const std::filesystem::path& dataset_dir,
                                        const std::string& split);

}  // namespace twinflow
