/** The distillation objectives: forward KL (the reference), reverse KL, generalised JSD(β), and plain CE on the reference tokens. */
export type KdLossKind = 'fkl' | 'rkl' | 'jsd' | 'ce';

export interface KdLossOptions {
  kind: KdLossKind;
  /** Softmax temperature T applied to both teacher and student logits; the loss is multiplied by T² (default 1). */
  temperature?: number;
  /** β of JSD(β) = β·KL(p_T ‖ m) + (1 − β)·KL(p_S ‖ m), m = β·p_T + (1 − β)·p_S (default 0.5). */
  beta?: number;
}
