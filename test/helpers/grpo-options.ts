/** GRPO options away from their defaults: group, sampling, loss, two reward functions and their weights, optimisation. */
export const GRPO_OPTIONS = {
  group_size: 8,
  temperature: 1.1,
  epsilon: 0.002,
  max_completion_length: 256,
  beta: 0.05,
  grpo_loss_type: 'bnpo',
  reward_functions: 'r1_accuracy_reward_func,r1_int_reward_func',
  reward_weights: [0.5, 0.5],
  learning_rate: 2e-6,
  seed: 7,
  gradient_accumulation_steps: 2,
};
