/**
 * The usage charts (chart.js through react-chartjs-2). Only the pieces drawn here are
 * registered, so the rest of chart.js is shaken out of the console's bundle. Each canvas
 * is an image with a label; the exact figures are in the tables beside it.
 */
import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip, type ChartOptions } from 'chart.js';
import { Bar } from 'react-chartjs-2';
import type { DailySeries } from './usage-series.js';

ChartJS.register(BarElement, CategoryScale, LinearScale, Tooltip, Legend);

const palette = ['#2456d6', '#e07b00', '#1a9e55', '#b42318', '#7a3fd1', '#0f8ba8', '#a15c00', '#5b6475'];
export const colour = (i: number) => palette[i % palette.length]!;

// Charts redraw on every poll and language change; animating them only costs frames.
const base = { animation: false, responsive: true, maintainAspectRatio: false } as const;

interface BarsProps {
  label: string;
  labels: string[];
  datasets: Array<{ label: string; data: number[] }>;
  stacked?: boolean;
  horizontal?: boolean;
  format?: (value: number) => string;
  testId: string;
}

export function Bars({ label, labels, datasets, stacked = false, horizontal = false, format, testId }: BarsProps) {
  const options: ChartOptions<'bar'> = {
    ...base,
    indexAxis: horizontal ? 'y' : 'x',
    scales: {
      x: { stacked, ...(horizontal && format ? { ticks: { callback: (value) => format(Number(value)) } } : {}) },
      y: { stacked, beginAtZero: true, ...(!horizontal && format ? { ticks: { callback: (value) => format(Number(value)) } } : {}) },
    },
    plugins: {
      legend: { display: datasets.length > 1, position: 'bottom' },
      tooltip: format ? { callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${format(Number(item.raw))}` } } : {},
    },
  };
  return (
    <div className="chart" data-testid={testId}>
      <Bar
        role="img"
        aria-label={label}
        data={{ labels, datasets: datasets.map((set, i) => ({ ...set, backgroundColor: colour(i), borderRadius: 3, maxBarThickness: 36 })) }}
        options={options}
      />
    </div>
  );
}

/** Cost per day, one stacked colour per model. */
export function CostByDay({ series, label, format }: { series: DailySeries; label: string; format: (value: number) => string }) {
  return (
    <Bars
      testId="chart-cost-by-day"
      label={label}
      labels={series.days.map((day) => day.slice(5))}
      datasets={series.models.map((model) => ({ label: model, data: series.costByModel.get(model)! }))}
      stacked
      format={format}
    />
  );
}
